"""The whole cluster's Slurm data, read once per interval per kind, and each user's view of it.

Every user's request is answered from the same reads: the queue, the partitions, the
associations, the reservations, the cluster's name and PrivateData rules. A view is cut once
per read and per user and then served until the next read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from jupyterlab_hpc.services.cache import Fresh, SlurmCache
from jupyterlab_hpc.site.visibility import Viewer, Visibility
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.errors import SlurmError
from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    ClusterInfo,
    Job,
    Partition,
    Reservation,
    SlurmRoles,
    UserAccess,
)

T = TypeVar("T")

# Views kept per (kind, user): enough for every user of a big site with each kind open.
MAX_VIEWS = 20_000

_NO_ROLES = Fresh(SlurmRoles(privileged=frozenset(), coordinated_accounts={}), "")

# PrivateData flags that hide from a plain user what the service must read for everyone:
# jobs (squeue), reservations, usage (others' associations), users and accounts (roles).
_HIDING_FLAGS = frozenset({"jobs", "reservations", "usage", "users", "accounts"})


class ServiceNotPrivileged(Exception):
    """PrivateData hides part of the cluster from the service's own account: every view cut
    from its reads would miss what Slurm shows users, so it serves none (the message says
    what to change) and per-user servers ask Slurm themselves."""


@dataclass(frozen=True)
class Intervals:
    """Seconds each kind of data is served before Slurm is read again."""

    jobs: float = 5.0
    partitions: float = 10.0
    quotas: float = 60.0
    reservations: float = 60.0
    cluster: float = 300.0


class SiteData:
    def __init__(self, backend: SlurmCommands, intervals: Intervals, log: logging.Logger) -> None:
        self.backend = backend
        self.intervals = intervals
        self.log = log
        self.cache = SlurmCache(ttl=intervals.jobs)
        self._views: dict[Hashable, tuple[tuple[object, ...], Fresh[Any]]] = {}
        self._told_not_privileged = False

    async def jobs(self, viewer: Viewer, *, mine: bool) -> Fresh[list[Job]]:
        queue, partitions, (visibility, rules) = await asyncio.gather(
            self._read("jobs", lambda: self.backend.list_jobs(mine=False), self.intervals.jobs),
            self._partitions(),
            self.visibility(),
        )

        def view() -> list[Job]:
            jobs = visibility.jobs(queue.value, partitions.value, viewer)
            return [job for job in jobs if job.user == viewer.name] if mine else jobs

        cut = self._view(("jobs", mine, viewer), (queue, partitions, *rules), view, queue)
        return _shared_if_whole(cut, queue)

    async def partitions(self, viewer: Viewer) -> Fresh[list[Partition]]:
        partitions, (visibility, rules) = await asyncio.gather(
            self._partitions(), self.visibility()
        )
        cut = self._view(
            ("partitions", viewer),
            (partitions, *rules),
            lambda: visibility.partitions(partitions.value, viewer),
            partitions,
        )
        return _shared_if_whole(cut, partitions)

    async def quotas(self, viewer: Viewer) -> Fresh[list[AccountQuota]]:
        """The user's associations, their default account as slurmdbd records it: like the
        user's own server, this fails while slurmdbd is down (SlurmUnavailable)."""
        quotas, defaults, (visibility, rules) = await asyncio.gather(
            self._all_quotas(),
            self._read("default_accounts", self.backend.default_accounts, self.intervals.quotas),
            self.visibility(),
        )

        def view() -> list[AccountQuota]:
            default = defaults.value.get(viewer.name)
            own = visibility.quotas(quotas.value.get(viewer.name, []), viewer)
            return [replace(q, default=q.account == default) for q in own] if default else own

        return self._view(("quotas", viewer), (quotas, defaults, *rules), view, quotas)

    async def access(self, viewer: Viewer) -> UserAccess:
        """The user's accounts from slurmctld (works while slurmdbd is down) and Unix groups."""
        own = (await self._all_quotas()).value.get(viewer.name, [])
        return UserAccess(
            user=viewer.name,
            default_account=next((quota.account for quota in own if quota.default), None),
            accounts=tuple(quota.account for quota in own),
            groups=tuple(sorted(viewer.groups)),
        )

    async def reservations(self, viewer: Viewer) -> Fresh[list[Reservation]]:
        reservations, (visibility, rules), access = await asyncio.gather(
            self._read("reservations", self.backend.list_reservations, self.intervals.reservations),
            self.visibility(),
            self.access(viewer),
        )
        return self._view(
            ("reservations", viewer),
            (reservations, *rules, access),  # access is new at every call: always cut again
            lambda: visibility.reservations(reservations.value, viewer, access.accounts),
            reservations,
        )

    async def cluster(self) -> ClusterInfo:
        return (
            await self._read("cluster", self.backend.cluster_info, self.intervals.cluster)
        ).value

    async def visibility(self) -> tuple[Visibility, tuple[object, ...]]:
        """PrivateData as slurmctld has it and the users' roles, with the reads they came from
        (a view cut with them is kept while those reads are). Without the roles (slurmdbd
        down) nobody is privileged and nobody coordinates: users see less, never more."""
        private_data = await self._read(
            "private_data", self.backend.private_data, self.intervals.cluster
        )
        try:
            roles: Fresh[SlurmRoles] = await self._read(
                "roles", self.backend.roles, self.intervals.cluster
            )
        except SlurmError as error:
            self.log.warning("hpc-site: users' roles unknown, so none is applied: %s", error)
            roles = _NO_ROLES
        hiding = private_data.value & _HIDING_FLAGS
        if hiding and roles is not _NO_ROLES:
            me = (await self._read("whoami", self.backend.whoami, self.intervals.cluster)).value
            if me not in roles.value.privileged:
                msg = (
                    f"PrivateData={','.join(sorted(private_data.value))} hides other users' data"
                    f" from the site service's account {me}, which is not a Slurm operator:"
                    f" sacctmgr modify user {me} set AdminLevel=Operator"
                )
                if not self._told_not_privileged:
                    self.log.error("hpc-site: serving no views: %s", msg)
                    self._told_not_privileged = True
                raise ServiceNotPrivileged(msg)
        return Visibility(private_data.value, roles.value), (private_data, roles)

    async def _partitions(self) -> Fresh[list[Partition]]:
        return await self._read(
            "partitions", self.backend.list_partitions, self.intervals.partitions
        )

    async def _all_quotas(self) -> Fresh[dict[str, list[AccountQuota]]]:
        return await self._read("quotas", self.backend.list_all_quotas, self.intervals.quotas)

    async def _read(self, key: str, fetch: Callable[[], Awaitable[T]], ttl: float) -> Fresh[T]:
        return await self.cache.get(key, fetch, ttl=ttl)

    def _view(
        self,
        key: Hashable,
        sources: tuple[object, ...],
        cut: Callable[[], T],
        dated_by: Fresh[Any],
    ) -> Fresh[T]:
        """The view under ``key``, cut again only when one of its ``sources`` was read again."""
        known = self._views.get(key)
        if known is not None and all(a is b for a, b in zip(known[0], sources, strict=True)):
            return known[1]
        view = Fresh(cut(), dated_by.updated)
        if len(self._views) >= MAX_VIEWS:
            self._views.clear()
        self._views[key] = (sources, view)
        return view


def _shared_if_whole(view: Fresh[list[T]], whole: Fresh[list[T]]) -> Fresh[list[T]]:
    """The read itself when a user's view of it left nothing out (no PrivateData, nothing
    hidden): every such user then gets the same object, rendered once for all of them."""
    return whole if len(view.value) == len(whole.value) else view
