"""HTTP to slurmrestd: JSON requests with a JWT over one kept-alive connection pool (httpx),
to ``http(s)://host:port`` or to a Unix socket (``unix:/path``, as slurmrestd takes it).

slurmrestd answers a refusal with HTTP 500 and a list of Slurm errors (``error``, the
errno's text, and ``description``, what was tried); their words become the SlurmError.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import ssl
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from jupyterlab_hpc.slurm.errors import (
    SlurmError,
    SlurmPermissionDenied,
    SlurmTimeout,
    SlurmUnavailable,
    error_from_stderr,
)
from jupyterlab_hpc.slurm.runner import CommandRunner

# A token is renewed when less than this share of its lifetime is left, so a request never
# leaves with a token that expires on the way.
_RENEW_AT_REMAINING = 0.2


class TokenSource:
    """The JWT for slurmrestd: a fixed one, or one from a command such as ``scontrol token``,
    renewed before it expires."""

    def __init__(self, *, token: str, command: Sequence[str], timeout: float) -> None:
        self._fixed = token
        self._runner = CommandRunner(timeout=timeout)
        self._command = list(command)
        self._token = ""
        self._renew_after = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> str:
        if self._fixed:
            return self._fixed
        async with self._lock:
            if not self._token or time.time() >= self._renew_after:
                self._token = token_from_output(await self._runner.run(self._command))
                self._renew_after = renewal_time(self._token, now=time.time())
            return self._token

    def forget(self) -> None:
        """Fetch a new token next time (slurmrestd rejected this one)."""
        self._token = ""


def token_from_output(output: str) -> str:
    """The token from ``scontrol token`` (``SLURM_JWT=eyJ...``) or a bare token."""
    text = output.strip()
    for line in text.splitlines():
        if line.startswith("SLURM_JWT="):
            return line.removeprefix("SLURM_JWT=").strip()
    if not text or any(char.isspace() for char in text):
        msg = f"The token command printed no token: {text[:200]!r}"
        raise SlurmUnavailable(msg)
    return text


def renewal_time(token: str, *, now: float) -> float:
    """When to renew ``token``: a share of its lifetime before its ``exp`` claim.

    A token whose claims cannot be read is renewed for every request.
    """
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        expires, issued = float(claims["exp"]), float(claims.get("iat", now))
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return now
    return expires - (expires - issued) * _RENEW_AT_REMAINING


class RestClient:
    """Requests to one slurmrestd as one user; every answer is JSON or a SlurmError.

    ``verify``: check an https slurmrestd's certificate (against ``ca_bundle``, a PEM file,
    when given; else the system's CAs)."""

    def __init__(
        self,
        *,
        url: str,
        user_name: str,
        tokens: TokenSource,
        timeout: float,
        verify: bool = True,
        ca_bundle: str = "",
    ) -> None:
        self.url = url
        self._user_name = user_name
        self._tokens = tokens
        self._timeout = timeout
        self._client = _http_client(url, timeout=timeout, verify=verify, ca_bundle=ca_bundle)

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``method path`` with ``body`` as JSON; the decoded answer, or Slurm's refusal raised."""
        token = await self._tokens.current()
        status, data = await self._send(method, path, body, token)
        if status == 401:
            self._tokens.forget()
            msg = f"slurmrestd did not accept the token of {self._user_name}: {data!r}"
            raise SlurmPermissionDenied(msg)
        if not isinstance(data, dict):
            msg = f"slurmrestd answered {method} {path} with HTTP {status}: {data!r}"
            raise SlurmUnavailable(msg)
        errors = data.get("errors") or []
        if errors:
            raise error_from_stderr("\n".join(_error_text(error) for error in errors))
        if status != 200:
            msg = f"slurmrestd answered {method} {path} with HTTP {status} and no reason"
            raise SlurmError(msg)
        return data

    async def close(self) -> None:
        """Close the kept-alive connections."""
        await self._client.aclose()

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, token: str
    ) -> tuple[int, Any]:
        """One request; the status and the JSON, else the text."""
        headers = {"X-SLURM-USER-NAME": self._user_name, "X-SLURM-USER-TOKEN": token}
        try:
            response = await self._client.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException:
            msg = f"slurmrestd at {self.url} did not answer within {self._timeout:g} s"
            raise SlurmTimeout(msg) from None
        except httpx.HTTPError as error:
            msg = f"slurmrestd at {self.url} cannot be reached: {error or type(error).__name__}"
            raise SlurmUnavailable(msg) from error
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text.strip()


def _http_client(url: str, *, timeout: float, verify: bool, ca_bundle: str) -> httpx.AsyncClient:
    """A client for ``url``: ``http(s)://host[:port][/base]`` or ``unix:/path/to/socket``."""
    headers = {"Accept": "application/json"}
    if url.startswith("unix:"):
        socket_path = url.removeprefix("unix:")
        if not socket_path.startswith("/"):
            msg = f"Not a Unix socket URL for slurmrestd (unix:/absolute/path): {url!r}"
            raise SlurmUnavailable(msg)
        transport = httpx.AsyncHTTPTransport(uds=socket_path)
        # The host is only the HTTP Host header's: the socket decides where it goes.
        return httpx.AsyncClient(
            base_url="http://slurmrestd", transport=transport, timeout=timeout, headers=headers
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"Not an http(s) or unix: URL for slurmrestd: {url!r}"
        raise SlurmUnavailable(msg)
    tls: ssl.SSLContext | bool = verify
    if verify and ca_bundle:
        try:
            tls = ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            msg = f"Cannot use the CA bundle {ca_bundle} for slurmrestd: {error}"
            raise SlurmUnavailable(msg) from error
    return httpx.AsyncClient(base_url=url.rstrip("/"), verify=tls, timeout=timeout, headers=headers)


def _error_text(error: dict[str, Any]) -> str:
    """``description: error`` as Slurm put them, without saying the same thing twice."""
    description = str(error.get("description") or "").strip()
    text = str(error.get("error") or "").strip()
    if not description or text in description:
        return description or text or "slurmrestd reported an error without a message"
    return f"{description}: {text}" if text else description
