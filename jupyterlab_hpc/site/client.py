"""A per-user server's client of the site service: proves its user once (MUNGE, or the hub's
API token under JupyterHub), then reads with the session token it was given."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
import orjson

from jupyterlab_hpc.site import munge
from jupyterlab_hpc.site.wire import from_plain
from jupyterlab_hpc.slurm.errors import SlurmError, SlurmTimeout, SlurmUnavailable

T = TypeVar("T")

# Seconds to connect to the service: it is on the site's network, so a longer wait means it
# is not there, and the server asks Slurm itself instead.
CONNECT_TIMEOUT = 2.0


class SiteUnusable(Exception):
    """The site service cannot answer this server (unreachable, or it refused its proof):
    the server then asks Slurm itself. The message says why, for the log and the status."""


class SiteClient:
    def __init__(
        self, url: str, *, command_prefix: Sequence[str] = (), timeout: float = 10.0
    ) -> None:
        self.url = url.rstrip("/")
        self.command_prefix = list(command_prefix)
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        )
        self._token = ""
        self._proving = asyncio.Lock()

    async def items(self, path: str, kind: type[T], **params: str) -> list[T]:
        """The records of a listing route (``/api/jobs``, ...) rebuilt as ``kind``."""
        answer = await self._get(path, params)
        return [from_plain(kind, item) for item in answer["items"]]

    async def item(self, path: str, kind: type[T]) -> T:
        return from_plain(kind, (await self._get(path, {}))["item"])

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        for attempt in range(2):
            token = await self._session()
            response = await self._request("GET", path, params=params, token=token)
            if response.status_code == 401 and attempt == 0:
                self._token = ""  # expired, or the service restarted: prove the user again
                continue
            return self._answer(response)
        raise AssertionError("unreachable")  # noqa: EM101 - the loop returns or raises

    async def _session(self) -> str:
        """The session token, asked for once: with the hub's API token of this server when a
        hub started it (and the service accepts hub tokens), else with a MUNGE credential."""
        async with self._proving:
            hub_token = os.environ.get("JUPYTERHUB_API_TOKEN")
            if not self._token and hub_token:
                with contextlib.suppress(SiteUnusable):  # a service outside the hub: MUNGE
                    self._token = await self._open_session("token", hub_token)
            if not self._token:
                self._token = await self._open_session("MUNGE", await self._munge_credential())
            return self._token

    async def _open_session(self, scheme: str, credential: str) -> str:
        headers = {"Authorization": f"{scheme} {credential}"}
        response = await self._request("POST", "/api/session", headers=headers)
        return str(self._answer(response)["token"])

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
            kwargs["headers"] = {"Authorization": f"Bearer {token}"}
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
        if response.status_code == 200:
            return dict(body)
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if response.status_code == 503:
            raise SlurmUnavailable(message)
        if response.status_code == 504:
            raise SlurmTimeout(message)
        msg = f"the site service at {self.url} answered {response.status_code}: {message}"
        raise SiteUnusable(msg)
