"""``/hpc/status``, ``/hpc/partitions``, ``/hpc/quotas`` and ``/hpc/announcements``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyterlab_hpc.handlers.base import HPCHandler
from jupyterlab_hpc.services.announcements import AnnouncementsService
from jupyterlab_hpc.services.partitions import PartitionsService
from jupyterlab_hpc.services.quotas import QuotasService
from jupyterlab_hpc.services.status import StatusService


class StatusHandler(HPCHandler):
    def initialize(self, status: StatusService) -> None:
        self.status = status

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with self.slurm_errors():
            payload = await self.status.status()
        self.finish_with_etag(payload)


class PartitionsHandler(HPCHandler):
    def initialize(self, partitions: PartitionsService) -> None:
        self.partitions = partitions

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with self.slurm_errors():
            listing = await self.partitions.list_partitions()
        self.finish_with_etag({"partitions": listing.value, "updated": listing.updated})


class QuotasHandler(HPCHandler):
    def initialize(self, quotas: QuotasService) -> None:
        self.quotas = quotas

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with self.slurm_errors():
            quotas = await self.quotas.list_quotas()
        accounts = [quota.to_json() for quota in quotas.value]
        self.finish_with_etag({"accounts": accounts, "updated": quotas.updated})


class AnnouncementsHandler(HPCHandler):
    def initialize(self, announcements: AnnouncementsService) -> None:
        self.announcements = announcements

    @web.authenticated
    @authorized
    async def get(self) -> None:
        announcements = await self.announcements.list_announcements()
        self.finish_with_etag({"announcements": [item.to_json() for item in announcements]})
