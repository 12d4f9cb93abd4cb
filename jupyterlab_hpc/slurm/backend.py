"""The interface every way of reaching Slurm (commands, slurmrestd) implements."""

from __future__ import annotations

from typing import Literal, Protocol

from jupyterlab_hpc.slurm.models import Job

JobAction = Literal["cancel", "hold", "release", "requeue"]


class SlurmBackend(Protocol):
    """What the services need from Slurm; one contract test suite checks every implementation."""

    name: str

    async def whoami(self) -> str:
        """The user name Slurm sees for this server's requests."""
        ...

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        """The jobs in Slurm's queue: the calling user's only when ``mine``, else everyone's."""
        ...

    async def get_job(self, job_id: str) -> Job:
        """One job still known to slurmctld; SlurmNotFound otherwise."""
        ...

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        """Cancel, hold, release or requeue; Slurm's refusal raises with Slurm's words."""
        ...

    async def submit(self, script: str, work_dir: str) -> str:
        """Submit the batch script at absolute path ``script`` to run in ``work_dir``; its id."""
        ...
