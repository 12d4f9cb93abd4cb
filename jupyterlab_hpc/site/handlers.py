"""The site service's read-only HTTP routes. Every route but ``/api/health`` needs a session
token, which ``POST /api/session`` gives to a per-user server that proved its user."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import orjson
from tornado import web

from jupyterlab_hpc.handlers.base import http_status
from jupyterlab_hpc.handlers.outage import OutageLog
from jupyterlab_hpc.handlers.rendered import RenderedBodies, render
from jupyterlab_hpc.services.cache import Fresh
from jupyterlab_hpc.site import munge
from jupyterlab_hpc.site.data import ServiceNotPrivileged, SiteData
from jupyterlab_hpc.site.hub import HubTokens
from jupyterlab_hpc.site.sessions import Sessions
from jupyterlab_hpc.site.visibility import Viewer
from jupyterlab_hpc.site.wire import to_plain
from jupyterlab_hpc.slurm.errors import SlurmError, SlurmUnavailable

CHALLENGE = re.compile(r"[0-9a-f]{32,128}")


class SiteHandler(web.RequestHandler):
    """JSON in and out; errors as ``{"message": ...}``; Slurm's errors with their status."""

    def initialize(  # noqa: PLR0917 - tornado passes a route's settings as keywords
        self,
        data: SiteData,
        sessions: Sessions,
        hub: HubTokens | None,
        rendered: RenderedBodies,
        outages: OutageLog,
        log: logging.Logger,
        command_prefix: Sequence[str],
    ) -> None:
        self.data = data
        self.sessions = sessions
        self.hub = hub
        self.rendered = rendered
        self.outages = outages
        self.site_log = log
        self.command_prefix = command_prefix

    def write_error(self, status_code: int, **kwargs: Any) -> None:  # noqa: ARG002
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        error = kwargs.get("exc_info", (None, None))[1]
        message = error.log_message if isinstance(error, web.HTTPError) else self._reason
        self.finish(orjson.dumps({"message": message or self._reason}))

    def viewer(self) -> Viewer:
        """Whom the request's session token was given to; a 401 without a valid one."""
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        viewer = self.sessions.viewer(token.strip()) if scheme.lower() == "bearer" else None
        if viewer is None:
            self.set_header("WWW-Authenticate", 'Bearer realm="jupyterlab-hpc site"')
            raise web.HTTPError(401, "No valid session token: POST /api/session first")
        return viewer

    async def answer(self, view: str, read: Any) -> None:
        """Finish with the view ``read`` (an awaitable of Fresh or a record), rendered once per
        view and read; a SlurmError becomes its HTTP status with Slurm's words."""
        try:
            value = await read
        except ServiceNotPrivileged as error:
            raise web.HTTPError(500, str(error)) from error
        except SlurmError as error:
            if isinstance(error, SlurmUnavailable):
                self.outages.unreachable(view.split(":", 1)[0], str(error))
            raise web.HTTPError(http_status(error), str(error)) from error
        self.outages.reachable(view.split(":", 1)[0])
        if isinstance(value, Fresh):
            # Keyed by the view object: users given the very same view (the whole queue,
            # without PrivateData) share one rendered body.
            body = self.rendered.get(
                id(value), value, lambda: {"items": to_plain(value.value), "updated": value.updated}
            )
        else:
            body = render({"item": to_plain(value)})
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Etag", body.etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        self.finish(body.body)


class SessionHandler(SiteHandler):
    async def post(self) -> None:
        """A session token for the user a MUNGE credential or a hub API token proves."""
        scheme, _, credential = self.request.headers.get("Authorization", "").partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        try:
            if scheme == "munge":
                viewer = Viewer.of_uid(await munge.uid_of(credential, self.command_prefix))
            elif scheme == "token" and self.hub is not None:
                name = await self._hub_user_of(credential)
                if name is None:
                    msg = "the hub does not know this token"
                    raise munge.CredentialRefused(msg)
                viewer = Viewer.named(name)
            else:
                ways = "MUNGE <credential>" + (" or token <hub API token>" if self.hub else "")
                msg = f"expected an Authorization header: {ways}"
                raise munge.CredentialRefused(msg)
        except (munge.CredentialRefused, SlurmError) as error:
            self.site_log.warning(
                "hpc-site: refused a session to %s: %s", self.request.remote_ip, error
            )
            status = 403 if isinstance(error, SlurmError) else 401
            raise web.HTTPError(status, f"Not authenticated: {error}") from error
        token = self.sessions.open(viewer)
        proof = "MUNGE" if scheme == "munge" else "hub token"
        self.site_log.info("hpc-site: session for %s (%s)", viewer.name, proof)
        self.finish({"token": token, "user": viewer.name, "expires_in": self.sessions.lifetime})

    async def _hub_user_of(self, token: str) -> str | None:
        assert self.hub is not None  # noqa: S101 - only called when hub tokens are accepted
        try:
            return await self.hub.user_of(token)
        except (web.HTTPError, OSError) as error:  # HubAuth's own, or the connection's
            self.site_log.warning("hpc-site: the hub did not answer about a token: %s", error)
            raise web.HTTPError(502, f"The hub did not answer: {error}") from error


class JobsHandler(SiteHandler):
    async def get(self) -> None:
        viewer = self.viewer()
        scope = self.get_query_argument("scope", "mine")
        if scope not in ("mine", "all"):
            raise web.HTTPError(400, f"scope must be mine or all (got {scope!r})")
        mine = scope == "mine"
        await self.answer(f"jobs:{scope}:{viewer.name}", self.data.jobs(viewer, mine=mine))


class PartitionsHandler(SiteHandler):
    async def get(self) -> None:
        viewer = self.viewer()
        await self.answer(f"partitions:{viewer.name}", self.data.partitions(viewer))


class QuotasHandler(SiteHandler):
    async def get(self) -> None:
        viewer = self.viewer()
        await self.answer(f"quotas:{viewer.name}", self.data.quotas(viewer))


class AccessHandler(SiteHandler):
    async def get(self) -> None:
        viewer = self.viewer()
        await self.answer(f"access:{viewer.name}", self.data.access(viewer))


class ReservationsHandler(SiteHandler):
    async def get(self) -> None:
        viewer = self.viewer()
        await self.answer(f"reservations:{viewer.name}", self.data.reservations(viewer))


class ClusterHandler(SiteHandler):
    async def get(self) -> None:
        self.viewer()
        await self.answer("cluster", self.data.cluster())


class IdentityHandler(SiteHandler):
    async def get(self) -> None:
        """Unauthenticated: the caller's challenge in a MUNGE credential encoded as the
        service's own account, so that a per-user server can tell this service from a process
        of another user listening where it should be, before it sends any proof of its own."""
        challenge = self.get_query_argument("challenge", "")
        if not CHALLENGE.fullmatch(challenge):
            raise web.HTTPError(400, "challenge must be 32 to 128 hexadecimal digits")
        try:
            credential = await munge.new_credential(
                self.command_prefix, payload=munge.identity_payload(challenge)
            )
        except SlurmError as error:
            raise web.HTTPError(503, f"MUNGE could not encode a credential: {error}") from error
        self.finish({"credential": credential})


class HealthHandler(SiteHandler):
    def get(self) -> None:
        """Unauthenticated: says only that the service runs (for monitoring and the hub)."""
        self.finish({"ok": True})


def site_routes(settings: dict[str, Any]) -> list[tuple[str, type[SiteHandler], dict[str, Any]]]:
    routes: list[tuple[str, type[SiteHandler]]] = [
        (r"/api/session", SessionHandler),
        (r"/api/jobs", JobsHandler),
        (r"/api/partitions", PartitionsHandler),
        (r"/api/quotas", QuotasHandler),
        (r"/api/access", AccessHandler),
        (r"/api/reservations", ReservationsHandler),
        (r"/api/cluster", ClusterHandler),
        (r"/api/identity", IdentityHandler),
        (r"/api/health", HealthHandler),
    ]
    return [(path, handler, settings) for path, handler in routes]
