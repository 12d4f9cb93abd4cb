"""The cluster as the status route shows it: which cluster, which Slurm, who the user is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jupyterlab_hpc.services.cache import SlurmCache
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.slurm.backend import SlurmBackend


class StatusService:
    """Cluster name and Slurm version (read once per ``ttl``) with the user's accounts."""

    def __init__(
        self,
        backend: SlurmBackend,
        cache: SlurmCache,
        user: UserService,
        ttl: float,
        site: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.user = user
        self.ttl = ttl
        self.site = site  # where reads come from, when a site service is configured

    async def status(self) -> dict[str, Any]:
        """The status the OpenAPI document describes; raises SlurmUnavailable while slurmctld
        does not answer."""
        info, access = await asyncio.gather(
            self.cache.get("cluster_info", self.backend.cluster_info, ttl=self.ttl),
            self.user.access(),
        )
        return {
            "cluster": info.value.cluster,
            "slurm_version": info.value.slurm_version,
            "backend": self.backend.name,
            "user": access.value.user,
            "default_account": access.value.default_account,
            "accounts": list(access.value.accounts),
            "site": self.site() if self.site else None,
            "ok": True,
        }
