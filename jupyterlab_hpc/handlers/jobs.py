"""``/hpc/jobs``: listing, detail, actions, submission and output of Slurm jobs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyterlab_hpc.handlers.base import HPCHandler
from jupyterlab_hpc.handlers.rendered import RenderedBodies
from jupyterlab_hpc.services.jobs import JobFilter, JobsService
from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.backend import JobAction

DEFAULT_OUTPUT_LIMIT = 64 * 1024


class JobsHandler(HPCHandler):
    def initialize(self, jobs: JobsService, rendered: RenderedBodies) -> None:
        self.jobs = jobs
        self.rendered = rendered

    @web.authenticated
    @authorized
    async def get(self) -> None:
        scope = self.query_choice("scope", ("mine", "all"), default="mine")
        with self.slurm_errors():
            only = self._filter()
            listing = await self.jobs.list_jobs(mine=scope == "mine", only=only)

        def payload() -> dict[str, Any]:
            return {"jobs": listing.value, "updated": listing.updated}  # records: see render()

        self.finish_rendered(self.rendered.get(("jobs", scope, only), listing, payload))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        path = self.get_json_body() or {}
        if not isinstance(path, dict) or not isinstance(path.get("path"), str):
            raise web.HTTPError(400, 'Expected a JSON body {"path": "<batch script>"}')
        with self.slurm_errors():
            job_id = await self.jobs.submit(path["path"])
        self.set_status(201)
        self.finish({"id": job_id})

    def _filter(self) -> JobFilter:
        def name(argument: str) -> str | None:
            value = self.get_query_argument(argument, "")
            return validation.slurm_name(value, argument) if value else None

        states = self.get_query_argument("state", "")
        return JobFilter(
            states=validation.job_states(states.split(",")),
            partition=name("partition"),
            account=name("account"),
            user=name("user"),
        )


class JobHandler(HPCHandler):
    def initialize(self, jobs: JobsService) -> None:
        self.jobs = jobs

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        with self.slurm_errors():
            detail = await self.jobs.get_job_detail(job_id)
        self.finish(detail.to_json())

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        with self.slurm_errors():
            await self.jobs.act(job_id, "cancel")
        self.set_status(204)
        self.finish()


class JobActionHandler(HPCHandler):
    def initialize(self, jobs: JobsService) -> None:
        self.jobs = jobs

    @web.authenticated
    @authorized
    async def post(self, job_id: str, action: JobAction) -> None:
        with self.slurm_errors():
            await self.jobs.act(job_id, action)
        self.set_status(204)
        self.finish()


class JobOutputHandler(HPCHandler):
    def initialize(self, jobs: JobsService) -> None:
        self.jobs = jobs

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        stream = self.query_choice("stream", ("stdout", "stderr"), default="stdout")
        offset = self.query_int("offset", default=0)
        limit = self.query_int("limit", default=DEFAULT_OUTPUT_LIMIT)
        with self.slurm_errors():
            chunk = await self.jobs.read_output(job_id, stream, offset, limit)
        # Up to a megabyte of log text, which compresses well; a panel following a job that
        # printed nothing new gets a 304.
        self.finish_with_etag(asdict(chunk))
