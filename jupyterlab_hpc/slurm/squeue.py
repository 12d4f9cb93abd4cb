"""The ``squeue`` query for jobs and the parser of its delimited text output.

Delimited text rather than ``--json``: it exists in every Slurm release with the same
shape, honours squeue's filters (22.05's ``--json`` ignores them), and is far cheaper
on big queues (see CONTRIBUTING.md, "Choosing output formats").
"""

from __future__ import annotations

from functools import lru_cache

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

# (our field, squeue --Format field) in output order. --Format rather than --format: only it
# offers the output paths and the allocated TRES (total memory, GPUs) in every release.
_FIELDS = (
    ("id", "JobArrayID"),
    ("array_job_id", "ArrayJobID"),
    ("array_task_id", "ArrayTaskID"),
    ("name", "Name"),
    ("user", "UserName"),
    ("account", "Account"),
    ("partition", "Partition"),
    ("qos", "QOS"),
    ("state", "State"),
    ("reason", "Reason"),
    ("submit_time", "SubmitTime"),
    ("start_time", "StartTime"),
    ("end_time", "EndTime"),
    ("time_limit", "TimeLimit"),
    ("elapsed", "TimeUsed"),
    ("nodes", "NodeList"),
    ("node_count", "NumNodes"),
    ("cpus", "NumCPUs"),
    ("tres", "tres-alloc"),
    ("work_dir", "WorkDir"),
    ("stdout", "StdOut"),
    ("stderr", "StdErr"),
)
_NAMES = tuple(name for name, _ in _FIELDS)
# Without a size squeue prints each value whole, then the suffix: our separator.
FORMAT = ",".join(f"{field}:{SEPARATOR}" for _, field in _FIELDS)


def squeue_argv(*, mine: bool = False) -> list[str]:
    """squeue for the caller's jobs (``mine``) or the whole queue."""
    argv = ["squeue", "--noheader", "--Format", FORMAT]
    return [*argv, "--me"] if mine else argv


def parse_jobs(output: str) -> list[Job]:
    """Jobs from ``squeue --noheader --Format FORMAT`` output; malformed lines are skipped."""
    jobs = []
    for line in output.splitlines():
        values = line.split(SEPARATOR)[: len(_FIELDS) + 1]
        if len(values) != len(_FIELDS) + 1 or values.pop():
            continue
        jobs.append(_job(dict(zip(_NAMES, values, strict=True))))
    return jobs


def _job(raw: dict[str, str]) -> Job:
    state = raw["state"].strip()
    pending = state == "PENDING"
    reason = text_or_none(raw["reason"])
    array_task = text_or_none(raw["array_task_id"])
    memory, gpus = _allocated(raw["tres"])
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
        start_time=utc_time(raw["start_time"]) if state in STARTED_STATES else None,
        end_time=utc_time(raw["end_time"]) if state in FINISHED_STATES else None,
        time_limit=duration_seconds(raw["time_limit"]),
        elapsed=duration_seconds(raw["elapsed"]),
        nodes=None if pending else text_or_none(raw["nodes"]),
        node_count=int_or_none(raw["node_count"]),
        cpus=int_or_none(raw["cpus"]),
        memory_mb=memory,
        gpus=gpus,
        work_dir=text_or_none(raw["work_dir"]),
        stdout=text_or_none(raw["stdout"]),
        stderr=text_or_none(raw["stderr"]),
        array_job_id=text_or_none(raw["array_job_id"]) if array_task else None,
        array_task_id=array_task,
        exit_code=None,
    )


@lru_cache(maxsize=4096)
def _allocated(tres: str) -> tuple[int | None, int | None]:
    """Memory (MB) and GPUs of an allocated-TRES list; a queue repeats a few distinct ones."""
    return memory_mb(tres_items(tres).get("mem", "")), gpu_count(tres)
