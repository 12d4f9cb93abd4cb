"""Account quotas of the server's user: every enforced limit with its usage, and fairshare."""

from __future__ import annotations

from jupyterlab_hpc.services.cache import Fresh, SlurmCache
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.records import AccountQuota


class QuotasService:
    def __init__(
        self, backend: SlurmBackend, cache: SlurmCache, user: UserService, ttl: float
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.user = user
        self.ttl = ttl

    async def list_quotas(self) -> Fresh[list[AccountQuota]]:
        """One entry per account of the user; SlurmUnavailable while slurmdbd is down."""
        name = await self.user.name()
        return await self.cache.get(
            ("quotas", name), lambda: self.backend.list_quotas(name), ttl=self.ttl
        )
