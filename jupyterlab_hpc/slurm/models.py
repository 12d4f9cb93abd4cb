"""Plain records of what Slurm reports, in the units of the REST contract (the OpenAPI document)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Job states a job does not leave by itself: it ended (unless requeued).
FINISHED_STATES = frozenset(
    {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
     "BOOT_FAIL", "DEADLINE"}
)  # fmt: skip
# States in which a job's start time is a fact rather than Slurm's projection.
STARTED_STATES = FINISHED_STATES | {"RUNNING", "COMPLETING", "SUSPENDED"}


# Not frozen: a frozen dataclass's __init__ costs twice as much, which counts at 10,000 jobs per
# listing. Records are never changed once made: the squeue parser hands the same record to
# every listing that prints the job's line unchanged (slurm/squeue.py).
@dataclass
class Job:
    """One job (or array task) as a user sees it; times ISO 8601 UTC, durations in seconds."""

    id: str
    name: str
    user: str
    account: str | None
    partition: str | None
    qos: str | None
    state: str
    reason: str | None
    reason_text: str | None
    submit_time: str | None
    start_time: str | None
    end_time: str | None
    time_limit: int | None
    elapsed: int | None
    nodes: str | None
    node_count: int | None
    cpus: int | None
    memory_mb: int | None
    gpus: int | None
    work_dir: str | None
    stdout: str | None
    stderr: str | None
    array_job_id: str | None
    array_task_id: str | None
    exit_code: str | None

    def to_json(self) -> dict[str, Any]:
        # Every field is a str, int or None: a shallow copy is asdict() at a tenth of the cost.
        return dict(self.__dict__)


@dataclass(frozen=True)
class ClusterInfo:
    """The cluster slurmctld manages and the Slurm release it runs."""

    cluster: str
    slurm_version: str


@dataclass(frozen=True)
class UserAccess:
    """What a user may submit with: Slurm accounts (the default among them) and Unix groups."""

    user: str
    default_account: str | None
    accounts: tuple[str, ...]
    groups: tuple[str, ...]
