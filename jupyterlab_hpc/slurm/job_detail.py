"""One job in detail: ``scontrol show job`` while slurmctld knows it, ``sacct`` afterwards.

slurmctld forgets a job MinJobAge seconds after it ends; sacct (slurmdbd) keeps it, and only
sacct knows how much CPU time and memory the job's steps used, hence its efficiency.
For a pending job, scontrol's StartTime is Slurm's estimated start (the value ``squeue
--start`` prints; Slurm 22.05's ``squeue --start`` ignores ``--Format``, so it is not used).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.fields import (
    SEPARATOR,
    duration_seconds,
    gpu_count,
    int_or_none,
    memory_mb,
    text_or_none,
    tres_items,
    utc_time,
)
from jupyterlab_hpc.slurm.models import FINISHED_STATES, STARTED_STATES, Job
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.scontrol_text import parse_records, split_name_id

# Fields scontrol prints last on their line, so the default form keeps them whole.
_FREE_TEXT = frozenset(
    {
        "JobName",
        "Command",
        "WorkDir",
        "Comment",
        "AdminComment",
        "SystemComment",
        "StdErr",
        "StdIn",
        "StdOut",
        # Newer than 24.11 (26.05 has it): the sbatch command line; its options look like fields.
        "SubmitLine",
    }
)

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

# Output file patterns scontrol leaves to slurmd (22.05 expands %A %a %j %u %x itself).
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
    """A job plus what only the detail view shows (API.md: GET /hpc/jobs/{id})."""

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


def scontrol_job_argv(job_id: str) -> list[str]:
    """The job in scontrol's default form: a line break ends every free-text field."""
    return ["scontrol", "show", "job", validation.job_id(job_id)]


def sacct_job_argv(job_id: str) -> list[str]:
    """The job's allocation and its steps (the steps hold the memory high-water marks)."""
    return [
        "sacct",
        "--noheader",
        "--parsable2",
        f"--delimiter={SEPARATOR}",
        "--jobs",
        validation.job_id(job_id),
        "--format",
        SACCT_FORMAT,
    ]


def parse_scontrol_jobs(output: str) -> list[JobDetail]:
    """Jobs from ``scontrol show job`` (every task of an array job); "Invalid job id" is []."""
    return [
        _scontrol_job(record)
        for record in parse_records(output, free_text=_FREE_TEXT)
        if "JobId" in record
    ]


def parse_sacct_jobs(output: str) -> list[JobDetail]:
    """Jobs from ``sacct_job_argv`` output: allocation lines with their steps folded in."""
    allocations: dict[str, dict[str, str]] = {}
    steps: dict[str, list[dict[str, str]]] = {}
    for raw in _sacct_lines(output):
        job_id, dot, _ = raw["id"].partition(".")
        if dot:
            steps.setdefault(job_id, []).append(raw)
        else:
            allocations[job_id] = raw
    return [_sacct_job(raw, steps.get(job_id, [])) for job_id, raw in allocations.items()]


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


def _scontrol_job(record: dict[str, str]) -> JobDetail:
    state = record.get("JobState", "UNKNOWN")
    pending = state == "PENDING"
    array_job_id = text_or_none(record.get("ArrayJobId", ""))
    array_task_id = text_or_none(record.get("ArrayTaskId", ""))
    job_id = record["JobId"]
    user = split_name_id(record.get("UserId", ""))[0]
    name = record.get("JobName", "")
    reason = text_or_none(record.get("Reason", "").replace("_", " "))
    tres = _job_tres(record)

    def output_path(key: str) -> str | None:
        path = text_or_none(record.get(key, ""))
        if path is None:
            return None
        return expand_output_path(
            path,
            job_id=job_id,
            array_job_id=array_job_id,
            array_task_id=array_task_id,
            user=user,
            name=name,
            batch_host=text_or_none(record.get("BatchHost", "")),
        )

    job = Job(
        id=_public_id(job_id, array_job_id, array_task_id),
        name=name,
        user=user,
        account=text_or_none(record.get("Account", "")),
        partition=text_or_none(record.get("Partition", "")),
        qos=text_or_none(record.get("QOS", "")),
        state=state,
        reason=reason,
        reason_text=reason_text(reason) if pending else None,
        submit_time=utc_time(record.get("SubmitTime", "")),
        start_time=utc_time(record.get("StartTime", "")) if state in STARTED_STATES else None,
        end_time=utc_time(record.get("EndTime", "")) if state in FINISHED_STATES else None,
        time_limit=duration_seconds(record.get("TimeLimit", "")),
        elapsed=duration_seconds(record.get("RunTime", "")),
        nodes=None if pending else text_or_none(record.get("NodeList", "")),
        node_count=_leading_int(record.get("NumNodes", "")),
        cpus=_leading_int(record.get("NumCPUs", "")),
        memory_mb=memory_mb(tres_items(tres).get("mem", "")),
        gpus=gpu_count(tres),
        work_dir=text_or_none(record.get("WorkDir", "")),
        stdout=output_path("StdOut"),
        stderr=output_path("StdErr"),
        array_job_id=array_job_id if array_task_id else None,
        array_task_id=array_task_id,
        exit_code=record.get("ExitCode") if state in FINISHED_STATES else None,
    )
    return JobDetail(
        job=job,
        estimated_start=utc_time(record.get("StartTime", "")) if pending else None,
        efficiency=None,
        command=text_or_none(record.get("Command", "")),
    )


def _job_tres(record: dict[str, str]) -> str:
    """The job's trackable resources: what it was given once it started, what it asks for
    until then. Slurm 22.05 prints that as TRES=; later releases print both AllocTRES=
    ("(null)" until the job starts) and ReqTRES=."""
    for key in ("TRES", "AllocTRES", "ReqTRES"):
        tres = text_or_none(record.get(key, ""))
        if tres is not None:
            return tres
    return ""


def _public_id(job_id: str, array_job_id: str | None, array_task_id: str | None) -> str:
    """squeue's id: ``1234``, ``1234_7``, or ``1234_[8-20%1]`` for a pending array's rest."""
    if array_job_id is None or array_task_id is None:
        return job_id
    if array_task_id.isdigit():
        return f"{array_job_id}_{array_task_id}"
    return f"{array_job_id}_[{array_task_id}]"


def _sacct_lines(output: str) -> Iterable[dict[str, str]]:
    names = [name for name, _ in _SACCT_FIELDS]
    for line in output.splitlines():
        values = line.split(SEPARATOR)
        if len(values) == len(names):
            yield dict(zip(names, values, strict=True))


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
        work_dir=text_or_none(raw["work_dir"]),
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


def _leading_int(value: str) -> int | None:
    """``2`` or a range's lower end (``2-4``: pending jobs may print a range)."""
    return int_or_none(value.partition("-")[0])
