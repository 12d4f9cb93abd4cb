"""The interface every way of reaching Slurm (commands, slurmrestd) implements."""

from __future__ import annotations

from typing import Protocol

from jupyterlab_hpc.slurm.models import Job


class SlurmBackend(Protocol):
    """What the services need from Slurm; one contract test suite checks every implementation."""

    name: str

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        """The jobs in Slurm's queue: the calling user's only when ``mine``, else everyone's."""
        ...
