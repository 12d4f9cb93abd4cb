"""The ``squeue`` query for jobs and the parser of its delimited text output.

Delimited text rather than ``--json``: it exists in every Slurm release with the same
shape, honours squeue's filters (22.05's ``--json`` ignores them), and is far cheaper
on big queues (see CONTRIBUTING.md, "Choosing output formats").
"""

from __future__ import annotations

from jupyterlab_hpc.slurm.fields import (
    duration_seconds,
    gpu_count,
    int_or_none,
    memory_mb,
    text_or_none,
    utc_time,
)
from jupyterlab_hpc.slurm.models import Job
from jupyterlab_hpc.slurm.reasons import reason_text

# A character no job name, path or account can contain in practice; squeue copies it as is.
SEPARATOR = "\x1f"

# (field, squeue -o code) in output order.
_FIELDS = (
    ("id", "%i"),
    ("name", "%j"),
    ("user", "%u"),
    ("account", "%a"),
    ("partition", "%P"),
    ("qos", "%q"),
    ("state", "%T"),
    ("reason", "%r"),
    ("submit_time", "%V"),
    ("start_time", "%S"),
    ("end_time", "%e"),
    ("time_limit", "%l"),
    ("elapsed", "%M"),
    ("nodes", "%N"),
    ("node_count", "%D"),
    ("cpus", "%C"),
    ("memory", "%m"),
    ("gres", "%b"),
    ("work_dir", "%Z"),
    ("array_job_id", "%F"),
    ("array_task_id", "%K"),
)
FORMAT = SEPARATOR.join(code for _, code in _FIELDS)

# States in which start/end times are facts rather than Slurm's projections.
_STARTED = {
    "RUNNING",
    "COMPLETING",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "OUT_OF_MEMORY",
    "SUSPENDED",
    "BOOT_FAIL",
    "DEADLINE",
}
_FINISHED = _STARTED - {"RUNNING", "COMPLETING", "SUSPENDED"}


def squeue_argv(*, mine: bool) -> list[str]:
    argv = ["squeue", "--noheader", "--format", FORMAT]
    return [*argv, "--me"] if mine else argv


def parse_jobs(output: str) -> list[Job]:
    """Jobs from ``squeue --noheader --format FORMAT`` output; malformed lines are skipped."""
    jobs = []
    for line in output.splitlines():
        values = line.split(SEPARATOR)
        if len(values) != len(_FIELDS):
            continue
        jobs.append(_job(dict(zip((name for name, _ in _FIELDS), values, strict=True))))
    return jobs


def _job(raw: dict[str, str]) -> Job:
    state = raw["state"].strip()
    pending = state == "PENDING"
    reason = text_or_none(raw["reason"])
    array_task = text_or_none(raw["array_task_id"])
    return Job(
        id=raw["id"].strip(),
        name=raw["name"],
        user=raw["user"].strip(),
        account=text_or_none(raw["account"]),
        partition=text_or_none(raw["partition"]),
        qos=text_or_none(raw["qos"]),
        state=state,
        reason=reason,
        reason_text=reason_text(reason) if pending else None,
        submit_time=utc_time(raw["submit_time"]),
        start_time=utc_time(raw["start_time"]) if state in _STARTED else None,
        end_time=utc_time(raw["end_time"]) if state in _FINISHED else None,
        time_limit=duration_seconds(raw["time_limit"]),
        elapsed=duration_seconds(raw["elapsed"]),
        nodes=None if pending else text_or_none(raw["nodes"]),
        node_count=int_or_none(raw["node_count"]),
        cpus=int_or_none(raw["cpus"]),
        memory_mb=memory_mb(raw["memory"]),
        gpus=gpu_count(raw["gres"]),
        work_dir=text_or_none(raw["work_dir"]),
        stdout=None,
        stderr=None,
        array_job_id=text_or_none(raw["array_job_id"]) if array_task else None,
        array_task_id=array_task,
        exit_code=None,
    )
