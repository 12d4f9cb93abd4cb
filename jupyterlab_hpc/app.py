"""The Jupyter Server extension: builds the services once and hands them to the handlers."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode

from jupyterlab_hpc.handlers.cluster import (
    AnnouncementsHandler,
    PartitionsHandler,
    QuotasHandler,
    StatusHandler,
)
from jupyterlab_hpc.handlers.jobs import (
    JobActionHandler,
    JobHandler,
    JobOutputHandler,
    JobsHandler,
)
from jupyterlab_hpc.handlers.kernels import KernelHandler, KernelOptionsHandler, KernelsHandler
from jupyterlab_hpc.handlers.openapi import OpenAPIHandler
from jupyterlab_hpc.handlers.outage import OutageLog
from jupyterlab_hpc.handlers.rendered import RenderedBodies
from jupyterlab_hpc.kernels.provisioner_names import (
    LEGACY_PROVISIONER_NAME,
    PROVISIONER_NAME,
    keep_legacy_name,
)
from jupyterlab_hpc.services.announcements import AnnouncementsService
from jupyterlab_hpc.services.cache import SlurmCache
from jupyterlab_hpc.services.jobs import JobsService
from jupyterlab_hpc.services.kernels import RemoteKernels
from jupyterlab_hpc.services.partitions import PartitionsService
from jupyterlab_hpc.services.quotas import QuotasService
from jupyterlab_hpc.services.status import StatusService
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.site.client import DEFAULT_SERVICE_USER, SiteClient
from jupyterlab_hpc.site.site_first import SiteFirstBackend
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.connection import (
    SlurmConnection,
    missing_commands,
    refuse_moved_settings,
)
from jupyterlab_hpc.slurm.errors import SlurmError

_JOB = r"/hpc/jobs/(?P<job_id>[^/]+)"
# Seconds before a server that found the site service unusable tries it again, at least.
MIN_SITE_RETRY = 5.0


def _source_of(site: SiteFirstBackend | None) -> Callable[[], dict[str, Any]] | None:
    """What the status route says of the site service, when one is configured."""
    if site is None:
        return None
    return lambda: site.source


class HPCExtension(ExtensionApp):
    """Slurm jobs, partitions, quotas and announcements for JupyterLab, under ``/hpc/``."""

    name = "jupyterlab_hpc"
    classes: list[type[Any]] = [SlurmConnection, RemoteKernels]  # noqa: RUF012 - traitlets reads a plain list

    jobs_refresh = Float(
        5.0,
        help="""Seconds a job listing read from Slurm is served to every tab before squeue runs
        again. However many browser tabs poll, Slurm sees at most one query per interval.""",
    ).tag(config=True)

    partitions_refresh = Float(
        10.0,
        help="""Seconds partitions and their node counts (scontrol show partition, sinfo) are
        served from the cache before Slurm is asked again.""",
    ).tag(config=True)

    quotas_refresh = Float(
        60.0,
        help="""Seconds account limits and usage (scontrol show assoc_mgr, sacctmgr) are served
        from the cache before Slurm is asked again.""",
    ).tag(config=True)

    status_refresh = Float(
        300.0,
        help="""Seconds the cluster's name, Slurm version and the user's accounts and groups are
        served from the cache before Slurm is asked again.""",
    ).tag(config=True)

    announcements_refresh = Float(
        60.0,
        help="""Seconds the announcements directory and Slurm's reservations are served from
        the cache before they are read again.""",
    ).tag(config=True)

    announcements_dir = Unicode(
        "",
        help="""Folder of admin announcements: one Markdown file (*.md) each, starting with
        front matter between '---' lines: 'title: ...' (required), 'severity: info|warning|error',
        'starts:' and 'ends:' (ISO 8601; without a zone the server's local time; when it is
        shown), 'dismissible: true|false'. Files that cannot be used are logged and skipped.
        Empty: no admin announcements.""",
    ).tag(config=True)

    site_url = Unicode(
        "",
        help="""URL of the site's jupyterlab-hpc site service (jupyter hpc-site), such as
        http://login01:8790. Then jobs, partitions, quotas, reservations and the user's
        accounts are read from it (one Slurm read per interval for every user of the cluster)
        while it answers; when it does not, this server asks Slurm itself and tries the
        service again after jobs_refresh seconds (at least 5). Actions, submissions and
        remote kernels always go to Slurm directly, as the user. Empty: no site service.""",
    ).tag(config=True)

    site_ca_file = Unicode(
        "",
        help="""CA bundle (PEM) that signed the site service's TLS certificate, for an
        https:// site_url with a site's own CA. Empty: the public CAs (certifi's).""",
    ).tag(config=True)

    site_user = Unicode(
        DEFAULT_SERVICE_USER,
        help="""The Unix account the site service runs as. Before this server sends the
        service any proof of its user, the service must prove (with a MUNGE credential) that
        it runs as this account: a process of another user listening on the service's port
        gets nothing and is not read from.""",
    ).tag(config=True)

    maintenance_horizon_days = Float(
        7.0,
        help="""Slurm maintenance reservations (MAINT flag) are announced from this many days
        before they start until they end.""",
    ).tag(config=True)

    # Set once initialize_settings built the services: start and stop need them.
    _initialized = False

    def initialize_settings(self) -> None:
        try:
            refuse_moved_settings(self.config)
        except ValueError as error:
            self.log.error("jupyterlab_hpc is not started: %s", error)
            raise
        connection = SlurmConnection(parent=self, log=self.log)
        backend = connection.new_backend()
        site: SiteFirstBackend | None = None
        if self.site_url:
            client = SiteClient(
                self.site_url,
                service_user=self.site_user,
                ca_file=self.site_ca_file or None,
                command_prefix=connection.command_prefix,
                timeout=connection.timeout,
            )
            retry_after = max(self.jobs_refresh, MIN_SITE_RETRY)
            site = SiteFirstBackend(backend, client, retry_after=retry_after, log=self.log)
            backend = site
        self.backend: SlurmBackend = backend
        if self.serverapp is None:
            msg = "jupyterlab_hpc runs only as an extension of a Jupyter server"
            raise RuntimeError(msg)
        root_dir = Path(self.serverapp.root_dir)
        # One cache for every data kind, each kind with its own refresh interval.
        cache = SlurmCache(ttl=self.jobs_refresh)
        user = UserService(backend, cache, ttl=self.status_refresh)
        self.jobs = JobsService(backend, cache, user, root_dir)
        self.status = StatusService(
            backend, cache, user, ttl=self.status_refresh, site=_source_of(site)
        )
        self.partitions = PartitionsService(backend, cache, user, ttl=self.partitions_refresh)
        self.quotas = QuotasService(backend, cache, user, ttl=self.quotas_refresh)
        self.announcements = AnnouncementsService(
            backend,
            cache,
            directory=Path(self.announcements_dir) if self.announcements_dir else None,
            horizon=timedelta(days=self.maintenance_horizon_days),
            ttl=self.announcements_refresh,
            log=self.log,
        )
        self.kernels = RemoteKernels(
            backend, self.partitions, user, self.serverapp, parent=self, log=self.log
        )
        self.settings["jupyterlab_hpc_outages"] = OutageLog(self.log)
        self._initialized = True
        self.log.info(
            "jupyterlab_hpc: Slurm backend %s%s",
            backend.name, f", reads through the site service {self.site_url}" if site else "",
        )  # fmt: skip
        other = keep_legacy_name()
        if other is not None:
            self.log.info(
                "Kernelspecs naming %r run %s, not jupyterlab-hpc (whose name is %r)",
                LEGACY_PROVISIONER_NAME,
                other,
                PROVISIONER_NAME,
            )

    def initialize_handlers(self) -> None:
        jobs = {"jobs": self.jobs}
        self.handlers.extend(
            [
                (r"/hpc/jobs", JobsHandler, {**jobs, "rendered": RenderedBodies()}),
                (rf"{_JOB}/output", JobOutputHandler, jobs),
                (rf"{_JOB}/(?P<action>hold|release|requeue)", JobActionHandler, jobs),
                (_JOB, JobHandler, jobs),
                (r"/hpc/openapi.json", OpenAPIHandler),
                (r"/hpc/status", StatusHandler, {"status": self.status}),
                (r"/hpc/partitions", PartitionsHandler, {"partitions": self.partitions}),
                (r"/hpc/quotas", QuotasHandler, {"quotas": self.quotas}),
                (
                    r"/hpc/announcements",
                    AnnouncementsHandler,
                    {"announcements": self.announcements},
                ),
                (r"/hpc/kernels/options", KernelOptionsHandler, {"kernels": self.kernels}),
                (r"/hpc/kernels", KernelsHandler, {"kernels": self.kernels}),
                (r"/hpc/kernels/(?P<kernel_id>[^/]+)", KernelHandler, {"kernels": self.kernels}),
            ]
        )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the server runs: stop cleanly on SIGINT, then clean up after dead predecessors
        (their remote kernels' jobs, connection files, logs, server files)."""
        if not self._initialized:
            return  # initialize_settings refused the configuration, and said why
        self._stop_on_sigint(serverapp)
        self._first_look = asyncio.ensure_future(self._say_how_slurm_is_reached())
        await self.kernels.server_started()

    async def _say_how_slurm_is_reached(self) -> None:
        """One line at start: the cluster, its Slurm and the user through the backend, or
        why Slurm cannot be reached and what to set, before any route answers 503."""
        connection = SlurmConnection(parent=self)
        missing = missing_commands(connection)
        if missing:
            self.log.error(
                "jupyterlab_hpc: Slurm's commands %s are not on this host's PATH: install "
                "Slurm's client commands, or set c.SlurmConnection.command_prefix (such as "
                '["ssh", "login01"]) or c.SlurmConnection.backend = "slurmrestd"',
                ", ".join(missing),
            )
            return
        try:
            status = await self.status.status()
        except SlurmError as error:
            self.log.error(
                "jupyterlab_hpc: Slurm cannot be reached through the %s backend: %s (see "
                "c.SlurmConnection)",
                connection.backend, error,
            )  # fmt: skip
            return
        self.log.info(
            "jupyterlab_hpc: cluster %s, Slurm %s, as %s, through the %s backend",
            status["cluster"], status["slurm_version"], status["user"], status["backend"],
        )  # fmt: skip

    def _stop_on_sigint(self, serverapp: Any) -> None:
        """SIGINT stops the server as SIGTERM does, when jupyter_server left it alone.

        jupyter_server (2.x, ``ServerApp.init_signal``) installs its SIGINT handler (the "Shut
        down this Jupyter server (y/[n])?" prompt) only when stdin is a TTY. Without one, as
        under JupyterHub's LocalProcessSpawner (which stops a server with SIGINT first) or a
        service manager, Python's default handler raises KeyboardInterrupt out of the event
        loop; ``start_ioloop`` catches it and returns, and the process exits without
        ``ServerApp._cleanup``: no extension's ``stop_extension``, no kernel manager
        ``shutdown_all``, no removal of the jpserver-<pid> files. Remote kernels' jobs then
        wait out the launcher's grace period and end FAILED. So, only when SIGINT still has
        Python's default handler, stop the way ``ServerApp._signal_stop`` (SIGTERM) does.
        Installed here, once the server's loop runs (``ServerApp.start``), so a ServerApp
        that is only initialized (tests) leaves its process's SIGINT alone.
        """
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return  # a TTY's prompt, JupyterHub's own handler, or ignored on purpose

        def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
            self.log.critical("received signal %s, stopping", signum)
            serverapp.stop(from_signal=True)

        signal.signal(signal.SIGINT, stop)

    async def stop_extension(self) -> None:
        """End remote kernels, their queued starts included (queued kernels are not the
        kernel manager's yet); runs before the kernel manager's own ``shutdown_all``."""
        if not self._initialized:
            return
        try:
            await self.kernels.close()
        except Exception:  # an error here would leave the server running: log it, go on
            self.log.exception("jupyterlab_hpc: could not end every remote kernel")
        await self.backend.close()
