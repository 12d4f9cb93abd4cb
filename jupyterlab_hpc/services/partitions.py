"""Partitions as the user sees them: one cached listing for everyone, ``allowed`` per user."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyterlab_hpc.services.cache import Fresh, SlurmCache
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.commands.partitions import is_allowed


class PartitionsService:
    def __init__(
        self, backend: SlurmBackend, cache: SlurmCache, user: UserService, ttl: float
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.user = user
        self.ttl = ttl

    async def list_partitions(self) -> Fresh[list[dict[str, Any]]]:
        """Partitions in the OpenAPI document's shape; ``allowed`` from the user's accounts and
        groups.

        The user's QOS are not consulted (AllowQos): only slurmdbd knows them, and partitions
        must not fail while it is down.
        """
        partitions, access = await asyncio.gather(
            self.cache.get("partitions", self.backend.list_partitions, ttl=self.ttl),
            self.user.access(),
        )
        accounts, groups = access.value.accounts, access.value.groups
        return Fresh(
            [
                partition.to_json(allowed=is_allowed(partition, accounts, groups))
                for partition in partitions.value
            ],
            partitions.updated,
        )
