"""The Jupyter Server extension: builds the services once and hands them to the handlers."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp

from jupyterlab_hpc.handlers.jobs import JobsHandler
from jupyterlab_hpc.services.jobs import JobsService
from jupyterlab_hpc.slurm.commands import SlurmCommands


class HPCExtension(ExtensionApp):
    """Slurm jobs, partitions, quotas and announcements for JupyterLab, under ``/hpc/``."""

    name = "jupyterlab_hpc"
    classes: list[type[Any]] = [SlurmCommands]  # noqa: RUF012 - traitlets reads a plain list

    def initialize_settings(self) -> None:
        backend = SlurmCommands(parent=self, log=self.log)
        self.jobs = JobsService(backend)
        self.log.info("jupyterlab_hpc: Slurm backend %s", backend.name)

    def initialize_handlers(self) -> None:
        self.handlers.extend([(r"/hpc/jobs", JobsHandler, {"jobs": self.jobs})])
