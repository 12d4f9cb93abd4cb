"""What Slurm would show one user, cut from what the site service reads for everyone.

The rules are slurmctld's own (its job, partition and reservation listings), for a caller who
does not pass ``--all``, as squeue, sinfo and scontrol do by default:

- Privileged users (AdminLevel Operator or Administrator) see everything.
- A hidden partition, or one whose AllowGroups the user is in none of, is not listed, and nor
  are its jobs.
- ``PrivateData=jobs``: only the user's own jobs, and those of the accounts they coordinate.
- ``PrivateData=reservations``: only reservations that name the user, one of their accounts
  or one of their groups.
- ``PrivateData=usage``: of the associations, only the user's own (not their accounts', whose
  usage is everyone's in them), and those of the accounts they coordinate.

A user is only ever given their own quotas, whatever the rules.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass, replace

from jupyterlab_hpc.slurm.errors import SlurmPermissionDenied
from jupyterlab_hpc.slurm.records import AccountQuota, Job, Partition, Reservation, SlurmRoles


@dataclass(frozen=True)
class Viewer:
    """The user a per-user server acts for, as the site service's host knows them."""

    name: str
    groups: frozenset[str]

    @classmethod
    def of_uid(cls, uid: int) -> Viewer:
        try:
            entry = pwd.getpwuid(uid)
        except KeyError as error:
            msg = f"uid {uid} is not a user of the site service's host"
            raise SlurmPermissionDenied(msg) from error
        return cls.named(entry.pw_name)

    @classmethod
    def named(cls, name: str) -> Viewer:
        try:
            entry = pwd.getpwnam(name)
        except KeyError as error:
            msg = f"{name} is not a user of the site service's host"
            raise SlurmPermissionDenied(msg) from error
        groups = set()
        for gid in os.getgrouplist(name, entry.pw_gid):
            try:
                groups.add(grp.getgrgid(gid).gr_name)
            except KeyError:
                continue  # a group id without a name: it cannot be named in AllowGroups
        return cls(name=name, groups=frozenset(groups))


@dataclass(frozen=True)
class Visibility:
    """The rules in force: slurm.conf's PrivateData flags and who has a role that widens them."""

    private_data: frozenset[str]
    roles: SlurmRoles

    def is_privileged(self, viewer: Viewer) -> bool:
        return viewer.name in self.roles.privileged

    def partitions(self, partitions: list[Partition], viewer: Viewer) -> list[Partition]:
        if self.is_privileged(viewer):
            return partitions
        return [partition for partition in partitions if _listed_to(partition, viewer)]

    def jobs(self, jobs: list[Job], partitions: list[Partition], viewer: Viewer) -> list[Job]:
        if self.is_privileged(viewer):
            return jobs
        unlisted = {p.name for p in partitions if not _listed_to(p, viewer)}
        private = "jobs" in self.private_data
        coordinated = self.roles.coordinated_accounts.get(viewer.name, frozenset())
        return [
            job
            for job in jobs
            if not _only_in(job, unlisted)
            and (not private or job.user == viewer.name or job.account in coordinated)
        ]

    def quotas(self, quotas: list[AccountQuota], viewer: Viewer) -> list[AccountQuota]:
        if "usage" not in self.private_data or self.is_privileged(viewer):
            return quotas
        coordinated = self.roles.coordinated_accounts.get(viewer.name, frozenset())
        return [
            replace(
                quota,
                limits=tuple(
                    limit
                    for limit in quota.limits
                    if limit.scope == "user" or limit.account in coordinated
                ),
            )
            for quota in quotas
        ]

    def reservations(
        self, reservations: list[Reservation], viewer: Viewer, accounts: tuple[str, ...]
    ) -> list[Reservation]:
        if "reservations" not in self.private_data or self.is_privileged(viewer):
            return reservations
        return [
            reservation
            for reservation in reservations
            if viewer.name in reservation.users
            or viewer.groups.intersection(reservation.groups)
            or set(accounts).intersection(reservation.accounts)
        ]


def _listed_to(partition: Partition, viewer: Viewer) -> bool:
    if partition.hidden:
        return False
    return partition.allow_groups is None or bool(
        viewer.groups.intersection(partition.allow_groups)
    )


def _only_in(job: Job, unlisted: set[str]) -> bool:
    """Whether every partition a job may run in (a pending job may name several) is unlisted."""
    names = [name for name in (job.partition or "").split(",") if name]
    return bool(names) and all(name in unlisted for name in names)
