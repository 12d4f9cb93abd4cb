"""One job in detail: ``squeue`` while slurmctld knows it, ``sacct`` afterwards.

slurmctld forgets a job MinJobAge seconds after it ends; sacct (slurmdbd) keeps it, and only
sacct knows how much CPU time and memory the job's steps used, hence its efficiency.
For a pending job, squeue's StartTime is Slurm's estimated start (the value ``squeue
--start`` prints; Slurm 22.05's ``squeue --start`` ignores ``--Format``, so it is not used).

Not ``scontrol show job``: its ``Key=Value`` lines cannot be told apart from a job name,
comment, work dir or output path holding line breaks and such lines (Slurm stores them raw),
and the user and output paths decide whose output the server reads. squeue and sacct print
every value followed by a separator made for the one query (fields.query_separator).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.fields import (
    EndedRecords,
    delimited_records,
    given_text_or_none,
    gpu_count,
    int_or_none,
    memory_mb,
    record_end,
    text_or_none,
    tres_items,
    utc_time,
)
from jupyterlab_hpc.slurm.models import FINISHED_STATES, STARTED_STATES, Job
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.squeue import (
    FIELDS,
    GIVEN_FIELDS,
    job_from_values,
    record_values,
    squeue_format,
)

# squeue's fields beyond the listing's (squeue.FIELDS, squeue.GIVEN_FIELDS): the job's own id
# (what %j expands to; an array task's differs from its array's), the node of its batch step
# (%N), the wait status it ended with; and the script with its arguments, a user's text.
_SQUEUE_DETAIL_FIELDS = (*FIELDS, "JobID", "BatchHost", "exit_code")
_SQUEUE_DETAIL_GIVEN = (*GIVEN_FIELDS, "Command")
# (our field, sacct field) in output order. No SubmitLine: it can span several lines.
# 22.05's sacct has no StdOut/StdErr fields.
_SACCT_FIELDS = (
    ("id", "JobID"),
    ("name", "JobName"),
    ("user", "User"),
    ("account", "Account"),
    ("partition", "Partition"),
    ("qos", "QOS"),
    ("state", "State"),
    ("reason", "Reason"),
    ("submit_time", "Submit"),
    ("start_time", "Start"),
    ("end_time", "End"),
    ("time_limit_minutes", "TimelimitRaw"),
    ("elapsed_seconds", "ElapsedRaw"),
    ("nodes", "NodeList"),
    ("node_count", "NNodes"),
    ("cpus", "AllocCPUS"),
    ("requested_tres", "ReqTRES"),
    ("allocated_tres", "AllocTRES"),
    ("work_dir", "WorkDir"),
    ("exit_code", "ExitCode"),
    ("total_cpu", "TotalCPU"),
    ("cpu_time_seconds", "CPUTimeRAW"),
    ("max_rss", "MaxRSS"),
    ("tasks", "NTasks"),
)
SACCT_FORMAT = ",".join(field for _, field in _SACCT_FIELDS)

# Output file patterns as sbatch takes them; slurmd expands them.
_PATTERN = re.compile(r"%(\d*)([%AaJjNnstux])")
_NO_ARRAY_TASK = "4294967294"  # what slurmd writes for %a outside an array (NO_VAL)
_CPU_TIME = re.compile(r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Efficiency:
    """Fractions of what a finished job was given that it used; None where Slurm has no data."""

    cpu: float | None
    memory: float | None


@dataclass(frozen=True)
class JobDetail:
    """A job plus what only the detail view shows (the OpenAPI document: GET /hpc/jobs/{id})."""

    job: Job
    estimated_start: str | None
    efficiency: Efficiency | None
    command: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.job.to_json(),
            "estimated_start": self.estimated_start,
            "efficiency": asdict(self.efficiency) if self.efficiency else None,
            "command": self.command,
        }


def squeue_job_argv(job_id: str, separator: str) -> list[str]:
    """The job (every task of an array) in any state slurmctld still holds, values ended by
    ``separator``."""
    return [
        "squeue",
        "--noheader",
        "--states=all",
        f"--jobs={validation.job_id(job_id)}",
        "--Format",
        squeue_format(_SQUEUE_DETAIL_FIELDS, _SQUEUE_DETAIL_GIVEN, separator),
    ]


def sacct_job_argv(job_id: str, separator: str) -> list[str]:
    """The job's allocation and its steps (the steps hold the memory high-water marks), values
    separated by ``separator``."""
    return [
        "sacct",
        "--noheader",
        "--parsable2",
        f"--delimiter={separator}",
        "--jobs",
        validation.job_id(job_id),
        "--format",
        SACCT_FORMAT,
    ]


def parse_squeue_jobs(output: str, separator: str) -> list[JobDetail]:
    """Jobs from ``squeue_job_argv(..., separator)`` output; an unknown task is []."""
    records = EndedRecords(record_end(separator)).feed(output.split("\n"))
    widths = len(_SQUEUE_DETAIL_FIELDS), len(_SQUEUE_DETAIL_GIVEN)
    return [
        _squeue_job(values)
        for record in records
        if (values := record_values(record, separator, *widths)) is not None
    ]


def parse_sacct_jobs(output: str, separator: str) -> list[JobDetail]:
    """Jobs from ``sacct_job_argv(..., separator)`` output: allocations, their steps folded in."""
    allocations: dict[str, dict[str, str]] = {}
    steps: dict[str, list[dict[str, str]]] = {}
    names = [name for name, _ in _SACCT_FIELDS]
    for values in delimited_records(output, separator, len(names)):
        raw = dict(zip(names, values, strict=True))
        job_id, dot, _ = raw["id"].partition(".")
        if dot:
            steps.setdefault(job_id, []).append(raw)
        else:
            allocations[job_id] = raw
    return [_sacct_job(raw, steps.get(job_id, [])) for job_id, raw in allocations.items()]


def find_job(details: list[JobDetail], job_id: str) -> JobDetail | None:
    """The record of ``job_id`` among what Slurm answered when asked for it. An array task's id
    must match exactly: a task that does not exist must not stand for its array (an action on
    it would act on every task). A plain job id stands for the first record Slurm gave for it
    when none is listed under it: an array's tasks, or the task whose own job id it is."""
    exact = next((detail for detail in details if detail.job.id == job_id), None)
    if exact is None and "_" not in job_id and details:
        return details[0]
    return exact


def expand_output_path(
    path: str,
    *,
    job_id: str,
    array_job_id: str | None,
    array_task_id: str | None,
    user: str,
    name: str,
    batch_host: str | None,
) -> str:
    """A batch job's ``--output``/``--error`` pattern as the file slurmd writes.

    ``%N`` stays when the job has no node yet. A backslash turns expansion off, as in slurmd.
    """
    if "\\" in path:
        return path.replace("\\", "")
    values = {
        "%": "%",
        "A": array_job_id or job_id,
        "a": array_task_id or _NO_ARRAY_TASK,
        "J": f"{job_id}.batch",
        "j": job_id,
        "N": batch_host,
        "n": "0",
        "s": "batch",
        "t": "0",
        "u": user,
        "x": name,
    }

    def replace(match: re.Match[str]) -> str:
        value = values[match[2]]
        if value is None:
            return match[0]
        return value.zfill(int(match[1])) if match[1] and value.isdigit() else value

    return _PATTERN.sub(replace, path)


def _squeue_job(values: list[str]) -> JobDetail:
    trusted = len(_SQUEUE_DETAIL_FIELDS)
    listed = job_from_values([*values[: len(FIELDS)], *values[trusted:-1]])
    own_id, batch_host, wait_status = values[len(FIELDS) : trusted]
    command = values[-1]

    def output_path(path: str | None) -> str | None:
        if path is None:
            return None
        return expand_output_path(
            path,
            job_id=own_id.strip(),
            array_job_id=listed.array_job_id,
            array_task_id=listed.array_task_id,
            user=listed.user,
            name=listed.name,
            batch_host=text_or_none(batch_host),
        )

    job = replace(
        listed,
        stdout=output_path(listed.stdout),
        stderr=output_path(listed.stderr),
        exit_code=_exit_code(wait_status) if listed.state in FINISHED_STATES else None,
    )
    pending = listed.state == "PENDING"
    return JobDetail(
        job=job,
        estimated_start=utc_time(values[FIELDS.index("StartTime")]) if pending else None,
        efficiency=None,
        command=given_text_or_none(command),
    )


def _exit_code(wait_status: str) -> str | None:
    """squeue's exit code as sacct's ``exit status:signal`` (``3:0``): 24.11 and later print
    it so, 22.05 prints the wait status (``768``)."""
    if re.fullmatch(r"\d+:\d+", wait_status.strip()):
        return wait_status.strip()
    status = int_or_none(wait_status)
    if status is None:
        return None
    signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    return f"{os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0}:{signal}"


def _sacct_job(raw: dict[str, str], steps: list[dict[str, str]]) -> JobDetail:
    state = raw["state"].split(" ")[0]  # "CANCELLED by 1001"
    pending = state == "PENDING"
    array_job_id, _, array_task_id = raw["id"].partition("_")
    tres = raw["allocated_tres"] or raw["requested_tres"]
    minutes = int_or_none(raw["time_limit_minutes"])
    reason = text_or_none(raw["reason"])
    allocated_mb = memory_mb(tres_items(tres).get("mem", ""))
    job = Job(
        id=raw["id"],
        name=raw["name"],
        user=raw["user"],
        account=text_or_none(raw["account"]),
        partition=text_or_none(raw["partition"]),
        qos=text_or_none(raw["qos"]),
        state=state,
        reason=reason,
        reason_text=reason_text(reason) if pending else None,
        submit_time=utc_time(raw["submit_time"]),
        start_time=utc_time(raw["start_time"]) if state in STARTED_STATES else None,
        end_time=utc_time(raw["end_time"]) if state in FINISHED_STATES else None,
        time_limit=minutes * 60 if minutes is not None else None,
        elapsed=int_or_none(raw["elapsed_seconds"]),
        nodes=None if pending else text_or_none(raw["nodes"]),
        node_count=int_or_none(raw["node_count"]),
        cpus=int_or_none(raw["cpus"]),
        memory_mb=allocated_mb,
        gpus=gpu_count(tres),
        work_dir=given_text_or_none(raw["work_dir"]),
        stdout=None,
        stderr=None,
        array_job_id=array_job_id if array_task_id else None,
        array_task_id=array_task_id or None,
        exit_code=raw["exit_code"] if state in FINISHED_STATES else None,
    )
    efficiency = _efficiency(raw, steps, allocated_mb) if state in FINISHED_STATES else None
    return JobDetail(job=job, estimated_start=None, efficiency=efficiency, command=None)


def _efficiency(
    raw: dict[str, str], steps: list[dict[str, str]], allocated_mb: int | None
) -> Efficiency | None:
    """CPU: CPU time used over CPUs x elapsed. Memory: the largest step's peak, counted for
    each of its tasks as seff does (MaxRSS is one task's peak), over the job's memory."""
    cpu = None
    cpu_used = _cpu_seconds(raw["total_cpu"])
    cpu_given = int_or_none(raw["cpu_time_seconds"])
    if cpu_used is not None and cpu_given:
        # CPUTimeRAW counts whole seconds, TotalCPU milliseconds: a job busy all along can come
        # out a hair over everything it was given.
        cpu = min(1.0, round(cpu_used / cpu_given, 4))
    peaks = [
        peak * (int_or_none(step["tasks"]) or 1)
        for step in steps
        if (peak := memory_mb(step["max_rss"])) is not None
    ]
    memory = round(max(peaks) / allocated_mb, 4) if peaks and allocated_mb else None
    if cpu is None and memory is None:
        return None
    return Efficiency(cpu=cpu, memory=memory)


def _cpu_seconds(value: str) -> float | None:
    """sacct's ``[days-][hours:]minutes:seconds.millis`` (TotalCPU) in seconds."""
    match = _CPU_TIME.match(value.strip())
    if match is None:
        return None
    hours = int(match["d"] or 0) * 24 + int(match["h"] or 0)
    return (hours * 60 + int(match["m"])) * 60 + float(match["s"])
