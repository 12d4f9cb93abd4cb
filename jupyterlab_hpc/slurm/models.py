"""Plain records of what Slurm reports, in the units of the REST contract (API.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
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
        return asdict(self)
