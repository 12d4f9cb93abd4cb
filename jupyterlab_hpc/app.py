"""The Jupyter Server extension: builds the services once and hands them to the handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float

from jupyterlab_hpc.handlers.jobs import (
    JobActionHandler,
    JobHandler,
    JobOutputHandler,
    JobsHandler,
)
from jupyterlab_hpc.handlers.openapi import OpenAPIHandler
from jupyterlab_hpc.services.cache import SlurmCache
from jupyterlab_hpc.services.jobs import JobsService
from jupyterlab_hpc.slurm.commands import SlurmCommands

_JOB = r"/hpc/jobs/(?P<job_id>[^/]+)"


class HPCExtension(ExtensionApp):
    """Slurm jobs, partitions, quotas and announcements for JupyterLab, under ``/hpc/``."""

    name = "jupyterlab_hpc"
    classes: list[type[Any]] = [SlurmCommands]  # noqa: RUF012 - traitlets reads a plain list

    jobs_refresh = Float(
        5.0,
        help="""Seconds a job listing read from Slurm is served to every tab before squeue runs
        again. However many browser tabs poll, Slurm sees at most one query per interval.""",
    ).tag(config=True)

    def initialize_settings(self) -> None:
        backend = SlurmCommands(parent=self, log=self.log)
        if self.serverapp is None:
            msg = "jupyterlab_hpc runs only as an extension of a Jupyter server"
            raise RuntimeError(msg)
        root_dir = Path(self.serverapp.root_dir)
        self.jobs = JobsService(backend, SlurmCache(ttl=self.jobs_refresh), root_dir)
        self.log.info("jupyterlab_hpc: Slurm backend %s", backend.name)

    def initialize_handlers(self) -> None:
        jobs = {"jobs": self.jobs}
        self.handlers.extend(
            [
                (r"/hpc/jobs", JobsHandler, jobs),
                (rf"{_JOB}/output", JobOutputHandler, jobs),
                (rf"{_JOB}/(?P<action>hold|release|requeue)", JobActionHandler, jobs),
                (_JOB, JobHandler, jobs),
                (r"/hpc/openapi.json", OpenAPIHandler),
            ]
        )
