"""A per-user server's client of the site service: makes sure the service runs as the site's
account (MUNGE), proves its own user (MUNGE, or the hub's API token under JupyterHub), then
reads with the session token it was given."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import secrets
import ssl
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import httpx
import orjson

from jupyterlab_hpc.site import munge
from jupyterlab_hpc.site.wire import from_plain
from jupyterlab_hpc.slurm.errors import SlurmError, SlurmTimeout, SlurmUnavailable

T = TypeVar("T")
R = TypeVar("R")

# Seconds to connect to the service: it is on the site's network, so a longer wait means it
# is not there, and the server asks Slurm itself instead.
CONNECT_TIMEOUT = 2.0
# How many Slurm timeouts (SlurmConnection.timeout) the service has to answer.
ANSWER_TIMEOUT_FACTOR = 2
# The account the admin guide has the site service run as.
DEFAULT_SERVICE_USER = "hpcsite"


class SiteUnusable(Exception):
    """The site service cannot answer this server (unreachable, or it refused its proof):
    the server then asks Slurm itself. The message says why, for the log and the status."""


class SiteClient:
    def __init__(
        self,
        url: str,
        *,
        service_user: str = DEFAULT_SERVICE_USER,
        command_prefix: Sequence[str] = (),
        timeout: float = 10.0,
        ca_file: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.service_user = service_user
        self.command_prefix = list(command_prefix)
        self.timeout = timeout
        # An https:// service's certificate is checked (against ca_file, or the public CAs).
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        self._http = httpx.AsyncClient(
            base_url=self.url,
            # The service may itself wait as long for Slurm (its own SlurmConnection.timeout,
            # the same setting at most sites) before it answers with Slurm's refusal: an
            # answer that slow is still the service's, not a reason to ask Slurm directly.
            timeout=httpx.Timeout(ANSWER_TIMEOUT_FACTOR * timeout, connect=CONNECT_TIMEOUT),
            verify=verify,
        )
        self._token = ""
        self._proving = asyncio.Lock()
        # Per route and query: the ETag of the last answer and the records made from it.
        self._known: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, object]] = {}

    async def items(self, path: str, kind: type[T], **params: str) -> list[T]:
        """The records of a listing route (``/api/jobs``, ...) rebuilt as ``kind``."""
        return await self._records(
            path, params, lambda answer: [from_plain(kind, item) for item in answer["items"]]
        )

    async def item(self, path: str, kind: type[T]) -> T:
        return await self._records(path, {}, lambda answer: from_plain(kind, answer["item"]))

    async def _records(
        self, path: str, params: dict[str, str], build: Callable[[dict[str, Any]], R]
    ) -> R:
        """The records of ``path`` as ``build`` makes them from the answer; the last ones
        again, the very same objects, when the service says they did not change (304): a
        view of 10,000 jobs is then neither sent, nor parsed, nor rebuilt at every poll."""
        key = (path, tuple(sorted(params.items())))
        known = self._known.get(key)
        response = await self._get(path, params, etag=known[0] if known else "")
        if response.status_code == 304 and known is not None:
            return cast("R", known[1])
        answer = self._answer(response)
        with self._records_of(path):
            records = build(answer)
        if etag := response.headers.get("ETag", ""):
            self._known[key] = (etag, records)
        return records

    @contextlib.contextmanager
    def _records_of(self, path: str) -> Iterator[None]:
        """An answer that is not the records asked for makes the service unusable, not this
        server's route fail (a service of another release, or not the service at all)."""
        try:
            yield
        except (KeyError, TypeError, ValueError) as error:
            msg = f"the site service at {self.url} answered {path} with no records: {error!r}"
            raise SiteUnusable(msg) from error

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str], etag: str) -> httpx.Response:
        headers = {"If-None-Match": etag} if etag else {}
        for attempt in range(2):
            token = await self._session()
            response = await self._request("GET", path, params=params, token=token, headers=headers)
            if response.status_code == 401 and attempt == 0:
                self._token = ""  # expired, or the service restarted: prove the user again
                continue
            return response
        raise AssertionError("unreachable")  # noqa: EM101 - the loop returns or raises

    async def _session(self) -> str:
        """The session token, asked for once: with the hub's API token of this server when a
        hub started it (and the service accepts hub tokens), else with a MUNGE credential."""
        async with self._proving:
            if not self._token:
                await self._check_service()
            hub_token = os.environ.get("JUPYTERHUB_API_TOKEN")
            if not self._token and hub_token:
                with contextlib.suppress(SiteUnusable):  # a service outside the hub: MUNGE
                    self._token = await self._open_session("token", hub_token)
            if not self._token:
                self._token = await self._open_session("MUNGE", await self._munge_credential())
            return self._token

    async def _check_service(self) -> None:
        """Whoever listens at the URL proves it runs as ``service_user`` (a fresh challenge
        in a MUNGE credential of theirs) before it gets any proof of this server's user: a
        process of another user on the service's port while the service is down gets
        nothing, and serves nothing to this server."""
        challenge = secrets.token_hex(32)
        response = await self._request("GET", "/api/identity", params={"challenge": challenge})
        credential = str(self._handshake_answer(response, "credential"))
        try:
            decoded = await munge.decode(credential, self.command_prefix, self.timeout)
            expected_uid = pwd.getpwnam(self.service_user).pw_uid
        except (munge.CredentialRefused, SlurmError, KeyError) as error:
            msg = f"the site service at {self.url} could not prove who runs it: {error}"
            raise SiteUnusable(msg) from error
        if decoded.uid != expected_uid or decoded.payload != munge.identity_payload(challenge):
            msg = (
                f"the site service at {self.url} does not run as {self.service_user}"
                f" (its MUNGE credential is of uid {decoded.uid}): nothing is sent to it"
            )
            raise SiteUnusable(msg)

    async def _open_session(self, scheme: str, credential: str) -> str:
        headers = {"Authorization": f"{scheme} {credential}"}
        response = await self._request("POST", "/api/session", headers=headers)
        return str(self._handshake_answer(response, "token"))

    def _handshake_answer(self, response: httpx.Response, field: str) -> object:
        """A field of an identity or session answer. Whatever goes wrong there (munged or
        the hub not answering the service, say) makes the service unusable to this server:
        it is never an outage of Slurm's to pass on."""
        try:
            return self._answer(response)[field]
        except (SlurmError, KeyError) as error:
            msg = f"the site service at {self.url} gave no {field}: {error!r}"
            raise SiteUnusable(msg) from error

    async def _munge_credential(self) -> str:
        try:
            return await munge.new_credential(self.command_prefix, self.timeout)
        except SlurmError as error:
            msg = f"no MUNGE credential for the site service: {error}"
            raise SiteUnusable(msg) from error

    async def _request(
        self, method: str, path: str, *, token: str = "", **kwargs: Any
    ) -> httpx.Response:
        if token:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            msg = f"the site service at {self.url} did not answer in time"
            raise SiteUnusable(msg) from error
        except httpx.HTTPError as error:
            msg = f"the site service at {self.url} is unreachable: {error}"
            raise SiteUnusable(msg) from error

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The decoded body; Slurm's own failures as SlurmErrors (the service met them for
        everyone, so asking Slurm directly would not help), anything else SiteUnusable."""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            msg = f"the site service at {self.url} answered {response.status_code} without JSON"
            raise SiteUnusable(msg) from error
        if response.status_code == 200 and isinstance(body, dict):
            return body
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if response.status_code == 503:
            raise SlurmUnavailable(message)
        if response.status_code == 504:
            raise SlurmTimeout(message)
        msg = f"the site service at {self.url} answered {response.status_code}: {message}"
        raise SiteUnusable(msg)
