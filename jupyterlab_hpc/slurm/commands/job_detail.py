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
from dataclasses import replace

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.commands.fields import EndedRecords, delimited_records, record_end
from jupyterlab_hpc.slurm.commands.squeue import (
    FIELDS,
    GIVEN_FIELDS,
    job_from_values,
    record_values,
    squeue_format,
)
from jupyterlab_hpc.slurm.job_states import FINISHED_STATES, PENDING, STARTED_STATES
from jupyterlab_hpc.slurm.notation import (
    expand_output_path,
    given_text_or_none,
    gpu_count,
    int_or_none,
    memory_mb,
    text_or_none,
    tres_items,
    utc_time,
)
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.records import Efficiency, Job, JobDetail

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

_CPU_TIME = re.compile(r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$")


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
    pending = listed.state == PENDING
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
    pending = state == PENDING
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
