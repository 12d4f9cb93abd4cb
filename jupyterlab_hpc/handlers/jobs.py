"""``/hpc/jobs``: the job list."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyterlab_hpc.handlers.base import HPCHandler
from jupyterlab_hpc.services.jobs import JobsService


class JobsHandler(HPCHandler):
    def initialize(self, jobs: JobsService) -> None:
        self.jobs = jobs

    @web.authenticated
    @authorized
    async def get(self) -> None:
        scope = self.query_choice("scope", ("mine", "all"), default="mine")
        with self.slurm_errors():
            listing = await self.jobs.list_jobs(mine=scope == "mine")
        self.finish({"jobs": [job.to_json() for job in listing.jobs], "updated": listing.updated})
