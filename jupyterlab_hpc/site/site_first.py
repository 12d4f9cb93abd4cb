"""The backend of a per-user server configured with a site service: reads come from the
service while it answers, actions and remote kernels always go to Slurm as the user.

When the service cannot answer (down, unreachable, refusing this server's proof) the reads
go to the user's own backend for one interval, after which the service is tried again; each
change of course is logged once. A Slurm outage the service reports (503, 504) is passed on
as it is: asking Slurm directly would only add load to a slurmctld that is already down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyterlab_hpc.site.client import SiteClient, SiteUnusable
from jupyterlab_hpc.slurm.backend import JobAction, SlurmBackend
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

T = TypeVar("T")


class SiteFirstBackend:
    def __init__(
        self,
        own: SlurmBackend,
        site: SiteClient,
        *,
        retry_after: float,
        log: logging.Logger | logging.LoggerAdapter[Any],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.own = own
        self.site = site
        self.name = own.name
        self.retry_after = retry_after
        self.log = log
        self.clock = clock
        self.problem: str | None = None  # why the service is not used, while it is not
        self._retry_at = 0.0

    @property
    def source(self) -> dict[str, Any]:
        """Where reads come from, for the status route."""
        return {
            "site_url": self.site.url,
            "via_site": self.problem is None,
            "problem": self.problem,
        }

    async def _read(
        self, from_site: Callable[[], Awaitable[T]], own: Callable[[], Awaitable[T]]
    ) -> T:
        if self.problem is not None and self.clock() < self._retry_at:
            return await own()
        try:
            value = await from_site()
        except SiteUnusable as error:
            if self.problem is None:
                self.log.warning(
                    "jupyterlab_hpc: the site service is not used, Slurm is asked directly "
                    "(tried again every %g s): %s", self.retry_after, error,
                )  # fmt: skip
            self.problem = str(error)
            self._retry_at = self.clock() + self.retry_after
            return await own()
        if self.problem is not None:
            self.log.info("jupyterlab_hpc: the site service answers again at %s", self.site.url)
            self.problem = None
        return value

    # Reads: from the site service first.

    async def whoami(self) -> str:
        return await self.own.whoami()

    async def cluster_info(self) -> ClusterInfo:
        return await self._read(
            lambda: self.site.item("/api/cluster", ClusterInfo), self.own.cluster_info
        )

    async def user_access(self, user: str) -> UserAccess:
        return await self._read(
            lambda: self._own_user(self.site.item("/api/access", UserAccess), user),
            lambda: self.own.user_access(user),
        )

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        scope = "mine" if mine else "all"
        return await self._read(
            lambda: self.site.items("/api/jobs", Job, scope=scope),
            lambda: self.own.list_jobs(mine=mine),
        )

    async def list_partitions(self) -> list[Partition]:
        return await self._read(
            lambda: self.site.items("/api/partitions", Partition), self.own.list_partitions
        )

    async def list_quotas(self, user: str) -> list[AccountQuota]:
        """The quotas of the user this server proved to be: the one its commands run as."""
        return await self._read(
            lambda: self.site.items("/api/quotas", AccountQuota), lambda: self.own.list_quotas(user)
        )

    async def list_reservations(self) -> list[Reservation]:
        return await self._read(
            lambda: self.site.items("/api/reservations", Reservation), self.own.list_reservations
        )

    async def _own_user(self, access: Awaitable[UserAccess], user: str) -> UserAccess:
        """The service's answer, if it is about ``user``: the service knows this server's
        user only from its proof, and a proof of someone else must not pass unnoticed."""
        answer = await access
        if answer.user != user:
            msg = f"the site service knows this server as {answer.user}, not {user}"
            raise SiteUnusable(msg)
        return answer

    # Everything else: the user's own backend, as the user.

    async def get_job(self, job_id: str) -> Job:
        return await self.own.get_job(job_id)

    async def get_job_detail(self, job_id: str) -> JobDetail:
        return await self.own.get_job_detail(job_id)

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        await self.own.act_on_job(job_id, action)

    async def submit(self, script: str, work_dir: str) -> str:
        return await self.own.submit(script, work_dir)

    async def submit_script(self, job: BatchScript) -> str:
        return await self.own.submit_script(job)

    async def job_status(self, job_id: str) -> JobStatus | None:
        return await self.own.job_status(job_id)

    async def signal_batch_shell(self, job_id: str, signum: int) -> None:
        await self.own.signal_batch_shell(job_id, signum)

    async def node_address(self) -> str:
        return await self.own.node_address()

    async def close(self) -> None:
        await self.site.close()
        await self.own.close()
