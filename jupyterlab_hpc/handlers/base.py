"""What every jupyterlab-hpc handler shares: authorization resource, Slurm error mapping, ETags."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from jupyterlab_hpc.handlers.outage import OutageLog, RequestLog
from jupyterlab_hpc.handlers.rendered import RenderedBody, render
from jupyterlab_hpc.slurm.errors import (
    InvalidRequest,
    SlurmConflict,
    SlurmError,
    SlurmNotFound,
    SlurmPermissionDenied,
    SlurmTimeout,
    SlurmUnavailable,
)

# Smaller bodies gain nothing from compression worth its cost.
GZIP_MIN_BYTES = 2048

# Most specific first: the first matching class decides the status (the OpenAPI document's
# error responses).
_STATUS_BY_ERROR: tuple[tuple[type[SlurmError], int], ...] = (
    (InvalidRequest, 400),
    (SlurmPermissionDenied, 403),
    (SlurmNotFound, 404),
    (SlurmConflict, 409),
    (SlurmUnavailable, 503),
    (SlurmTimeout, 504),
    (SlurmError, 400),
)


def http_status(error: SlurmError) -> int:
    """The HTTP status of a Slurm error: the OpenAPI document's error responses."""
    return next(code for kind, code in _STATUS_BY_ERROR if isinstance(error, kind))


class HPCHandler(APIHandler):
    """Base of every route; jupyter_server's authorizer sees the actions on resource ``hpc``."""

    auth_resource = "hpc"

    # Set for a 503 of an outage OutageLog already logged: the request log keeps quiet.
    _repeated_outage = False

    @property
    def log(self) -> Any:
        """jupyter_server's logger; its request log of a repeated outage's 503 at debug."""
        return RequestLog(super().log, repeated_outage=self._repeated_outage)

    @contextmanager
    def slurm_errors(self) -> Iterator[None]:
        """Turn a SlurmError into the HTTP status the OpenAPI document gives it, keeping Slurm's
        words; an outage (503) is logged once, not at every request."""
        outages: OutageLog = self.settings["jupyterlab_hpc_outages"]
        try:
            yield
        except SlurmError as error:
            status = http_status(error)
            if status == 503:
                began = outages.unreachable(type(self).__name__, str(error))
                self._repeated_outage = not began
            raise web.HTTPError(status, str(error)) from error
        outages.reachable(type(self).__name__)

    def get_json_body(self) -> dict[str, Any] | None:
        """jupyter_server's, but a body that is not UTF-8 is a 400 like any other bad JSON
        (jupyter_server decodes it before its own check, and the error became a 500)."""
        try:
            return super().get_json_body()
        except UnicodeDecodeError as error:
            raise web.HTTPError(400, "Invalid JSON in body of request: not UTF-8") from error

    def finish_with_etag(self, payload: dict[str, Any]) -> None:
        """Finish a GET with ``payload``, or with a bodiless 304 if the client has it already."""
        self.finish_rendered(render(payload))

    def finish_rendered(self, rendered: RenderedBody) -> None:
        """Finish with ``rendered``, gzipped for clients that accept it (browsers do), or with
        a bodiless 304 if the client has that representation already."""
        gzipped = len(rendered.body) >= GZIP_MIN_BYTES and accepts_gzip(
            self.request.headers.get("Accept-Encoding", "")
        )
        # Each representation has its own tag. Set before finish(): tornado then leaves the
        # tag (and the 304 check) to us.
        self.set_header("Etag", f'{rendered.etag[:-1]}-gzip"' if gzipped else rendered.etag)
        self.set_header("Vary", "Accept-Encoding")
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        if gzipped:
            self.set_header("Content-Encoding", "gzip")
        self.finish(rendered.gzipped if gzipped else rendered.body)

    def query_choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        """A query argument that must be one of ``choices``; anything else is a 400."""
        value = self.get_query_argument(name, default)
        if value not in choices:
            allowed = ", ".join(choices)
            raise web.HTTPError(400, f"{name} must be one of: {allowed} (got {value!r})")
        return value

    def query_int(self, name: str, default: int) -> int:
        """A non-negative integer query argument; anything else is a 400."""
        value = self.get_query_argument(name, str(default))
        # isdigit() alone takes "²" (which int() refuses) and other scripts' digits.
        if not (value.isascii() and value.isdigit()):
            raise web.HTTPError(400, f"{name} must be a non-negative integer (got {value!r})")
        return int(value)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (and does not refuse it with q=0)."""
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() == "gzip":
            quality = parameters.replace(" ", "").lower().removeprefix("q=")
            try:
                return float(quality or "1") > 0
            except ValueError:
                return True
    return False
