"""``jupyter hpc-site``: the site service, one per cluster, run by the site's admin."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
from urllib.parse import urlsplit

from jupyter_core.application import JupyterApp
from tornado import web
from traitlets import Bool, Float, Unicode, default

from jupyterlab_hpc.handlers.outage import OutageLog
from jupyterlab_hpc.handlers.rendered import RenderedBodies
from jupyterlab_hpc.site.data import Intervals, SiteData
from jupyterlab_hpc.site.handlers import site_routes
from jupyterlab_hpc.site.hub import HubTokens
from jupyterlab_hpc.site.sessions import Sessions
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.connection import SlurmConnection

# Rendered views kept: one per user and kind for a site of some thousands of users.
MAX_RENDERED_VIEWS = 20_000


class HPCSiteApp(JupyterApp):
    """The site service: one Slurm read per interval per kind of data for every user of the
    cluster, each user's Jupyter server served what Slurm would show that user."""

    name = "jupyter-hpc-site"
    description = """The jupyterlab-hpc site service: reads Slurm's queue, partitions,
    associations and reservations once per interval for the whole cluster and serves each
    user's Jupyter server (c.HPCExtension.site_url) what Slurm would show that user.
    Run it as an unprivileged account that is a Slurm Operator (sacctmgr modify user NAME
    set AdminLevel=Operator), on a host with Slurm's commands and munged."""
    examples = """
    jupyter hpc-site --HPCSiteApp.bind_url=http://127.0.0.1:8790
    jupyter hpc-site --generate-config
    """
    classes = [SlurmConnection]  # noqa: RUF012 - traitlets reads a plain list
    aliases = {  # noqa: RUF012
        **JupyterApp.aliases,
        "bind-url": "HPCSiteApp.bind_url",
    }

    bind_url = Unicode(
        help="""Where the service listens (http://host:port). Default: the URL JupyterHub
        gives a managed service (JUPYTERHUB_SERVICE_URL), else http://127.0.0.1:8790.
        Per-user servers reach it at c.HPCExtension.site_url.""",
    ).tag(config=True)

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO  # an admin's log says where it serves, each outage and refusal

    @default("bind_url")
    def _default_bind_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8790")

    certfile = Unicode(
        "",
        help="""TLS certificate (PEM) for an https:// bind_url: per-user servers on other hosts
        then reach the service over TLS (c.HPCExtension.site_ca_file names the CA that signed
        it, if it is not a public one).""",
    ).tag(config=True)
    keyfile = Unicode("", help="The TLS certificate's private key (PEM).").tag(config=True)

    jobs_refresh = Float(5.0, help="Seconds between two reads of the whole queue.").tag(config=True)
    partitions_refresh = Float(10.0, help="Seconds between two reads of the partitions.").tag(
        config=True
    )
    quotas_refresh = Float(
        60.0, help="Seconds between two reads of every association's limits and usage."
    ).tag(config=True)
    reservations_refresh = Float(60.0, help="Seconds between two reads of the reservations.").tag(
        config=True
    )
    cluster_refresh = Float(
        300.0,
        help="""Seconds between two reads of the cluster's name and Slurm version, its
        PrivateData setting and its users' roles (operators, coordinators).""",
    ).tag(config=True)
    session_lifetime = Float(
        3600.0,
        help="""Seconds a session token is valid; then the per-user server proves its user
        again (a new MUNGE credential or its hub token).""",
    ).tag(config=True)
    accept_hub_tokens = Bool(
        default_value=True,
        help="""Under JupyterHub (as a managed service): also accept a per-user server's hub
        API token as proof of its user, asking the hub whose it is.""",
    ).tag(config=True)

    def start(self) -> None:
        super().start()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        connection = SlurmConnection(parent=self, log=self.log)
        if connection.backend != "commands":
            self.log.critical(
                "hpc-site reads Slurm through its commands (c.SlurmConnection.backend = "
                '"commands"): slurmrestd has no usage of association limits and no PrivateData'
            )
            raise SystemExit(2)
        backend = SlurmCommands(
            command_prefix=connection.command_prefix, timeout=connection.timeout, show_all=True
        )
        intervals = Intervals(
            jobs=self.jobs_refresh,
            partitions=self.partitions_refresh,
            quotas=self.quotas_refresh,
            reservations=self.reservations_refresh,
            cluster=self.cluster_refresh,
        )
        hub = None
        if self.accept_hub_tokens and HubTokens.started_by_hub():
            if HubTokens.installed():
                hub = HubTokens()
            else:
                self.log.warning(
                    "hpc-site: started by a hub, but the jupyterhub package is not installed"
                    " here: hub tokens are not accepted, only MUNGE"
                )
        settings = {
            "data": SiteData(backend, intervals, self.log),
            "sessions": Sessions(lifetime=self.session_lifetime),
            "hub": hub,
            "rendered": RenderedBodies(max_views=MAX_RENDERED_VIEWS),
            "outages": OutageLog(self.log),
            "log": self.log,
            # unmunge asks the munged of the cluster's Slurm hosts, as every Slurm command does.
            "command_prefix": connection.command_prefix,
        }
        address = urlsplit(self.bind_url)
        app = web.Application(site_routes(settings))
        server = app.listen(
            address.port or (443 if address.scheme == "https" else 80),
            address.hostname or "127.0.0.1",
            xheaders=False,
            ssl_options=self._tls(address.scheme),
        )
        self.log.info(
            "hpc-site: serving on %s (proof of user: MUNGE%s); queue read every %g s",
            self.bind_url, ", hub tokens" if hub else "", self.jobs_refresh,
        )  # fmt: skip
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopped.set)
        await stopped.wait()
        self.log.info("hpc-site: stopping")
        server.stop()

    def _tls(self, scheme: str) -> ssl.SSLContext | None:
        """TLS for an https:// bind_url; never plain HTTP where TLS was asked for."""
        if scheme == "http":
            return None
        if scheme != "https" or not (self.certfile and self.keyfile):
            self.log.critical(
                "hpc-site: bind_url %s needs http://, or https:// with"
                " HPCSiteApp.certfile and HPCSiteApp.keyfile", self.bind_url,
            )  # fmt: skip
            raise SystemExit(2)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


def main() -> None:
    logging.basicConfig()
    HPCSiteApp.launch_instance()


if __name__ == "__main__":
    main()
