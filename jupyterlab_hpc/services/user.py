"""Who this server acts as in Slurm, and what that user may submit with."""

from __future__ import annotations

import asyncio

from jupyterlab_hpc.services.cache import Fresh, SlurmCache
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.records import UserAccess


class UserService:
    """The server's Slurm user (asked once: it cannot change while the server runs) and their
    accounts and groups, read once per ``ttl`` for every view that needs them."""

    def __init__(self, backend: SlurmBackend, cache: SlurmCache, ttl: float) -> None:
        self.backend = backend
        self.cache = cache
        self.ttl = ttl
        self._name: str | None = None
        # Many first requests arrive together when Lab opens: one whoami serves them all.
        self._asking = asyncio.Lock()

    async def name(self) -> str:
        async with self._asking:
            if self._name is None:
                self._name = await self.backend.whoami()
        return self._name

    async def access(self) -> Fresh[UserAccess]:
        name = await self.name()
        return await self.cache.get(
            ("access", name), lambda: self.backend.user_access(name), ttl=self.ttl
        )
