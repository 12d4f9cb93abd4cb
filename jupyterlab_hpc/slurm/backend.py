"""The interface every way of reaching Slurm (commands, slurmrestd) implements.

Every method raises a SlurmError subclass (jupyterlab_hpc.slurm.errors) on failure:
SlurmUnavailable when the daemon that holds the data cannot be reached, SlurmTimeout when it
did not answer in time, and the others as documented per method.
"""

from __future__ import annotations

from typing import Literal, Protocol

from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    BatchScript,
    ClusterInfo,
    Job,
    JobDetail,
    JobStatus,
    Partition,
    Reservation,
    UserAccess,
)

JobAction = Literal["cancel", "hold", "release", "requeue"]


class SlurmBackend(Protocol):
    """What the services need from Slurm; one contract test suite checks every implementation."""

    name: str

    async def whoami(self) -> str:
        """The user name Slurm sees for this server's requests."""
        ...

    async def cluster_info(self) -> ClusterInfo:
        """Cluster name and slurmctld's Slurm version; SlurmUnavailable if slurmctld is down."""
        ...

    async def user_access(self, user: str) -> UserAccess:
        """``user``'s accounts (from slurmctld: works while slurmdbd is down) and Unix groups."""
        ...

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        """The jobs in Slurm's queue: the calling user's only when ``mine``, else everyone's."""
        ...

    async def get_job(self, job_id: str) -> Job:
        """One job still known to slurmctld, output paths as slurmd writes them; SlurmNotFound."""
        ...

    async def get_job_detail(self, job_id: str) -> JobDetail:
        """The job with estimated start, command, efficiency if finished (sacct); SlurmNotFound."""
        ...

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        """Cancel, hold, release or requeue; Slurm's refusal raises with Slurm's words."""
        ...

    async def submit(self, script: str, work_dir: str) -> str:
        """Submit the batch script at absolute path ``script`` to run in ``work_dir``; its id."""
        ...

    async def submit_script(self, job: BatchScript) -> str:
        """Submit a batch script given as text, with its options; the new job's id."""
        ...

    async def job_status(self, job_id: str) -> JobStatus | None:
        """Where the job stands (a remote kernel's job); None once Slurm forgot it."""
        ...

    async def signal_batch_shell(self, job_id: str, signum: int) -> None:
        """Send ``signum`` to the job's batch shell (a kernel's launcher) only."""
        ...

    async def node_address(self) -> str:
        """The address of a compute node (its NodeAddr): the way the nodes are reached."""
        ...

    async def list_partitions(self) -> list[Partition]:
        """The partitions the caller can see, with node, CPU and GPU counts and access lists."""
        ...

    async def list_quotas(self, user: str) -> list[AccountQuota]:
        """Per account of ``user``: enforced limits, live usage, fairshare; SlurmUnavailable
        when slurmdbd (or slurmctld) is down."""
        ...

    async def list_reservations(self) -> list[Reservation]:
        """Every reservation slurmctld has (maintenance ones have ``is_maintenance``)."""
        ...

    async def close(self) -> None:
        """Release what the backend holds open (slurmrestd's kept-alive connections)."""
        ...
