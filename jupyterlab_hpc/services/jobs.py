"""Jobs as the REST layer serves them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.models import Job


@dataclass(frozen=True)
class JobList:
    jobs: list[Job]
    updated: str


class JobsService:
    """Reads jobs from the backend for the REST handlers."""

    def __init__(self, backend: SlurmBackend) -> None:
        self.backend = backend

    async def list_jobs(self, *, mine: bool) -> JobList:
        jobs = await self.backend.list_jobs(mine=mine)
        updated = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return JobList(jobs=jobs, updated=updated)
