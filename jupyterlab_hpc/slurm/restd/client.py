"""HTTP to slurmrestd: JSON requests with a JWT, standard library only, off the event loop.

slurmrestd answers a refusal with HTTP 500 and a list of Slurm errors (``error``, the
errno's text, and ``description``, what was tried); their words become the SlurmError.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import http.client
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

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
    """Requests to one slurmrestd as one user; every answer is JSON or a SlurmError."""

    def __init__(self, *, url: str, user_name: str, tokens: TokenSource, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = f"Not an http(s) URL for slurmrestd: {url!r}"
            raise SlurmUnavailable(msg)
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._base_path = parts.path.rstrip("/")
        self._user_name = user_name
        self._tokens = tokens
        self._timeout = timeout

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``method path`` with ``body`` as JSON; the decoded answer, or Slurm's refusal raised."""
        token = await self._tokens.current()
        status, data = await asyncio.to_thread(self._send, method, path, body, token)
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

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, token: str
    ) -> tuple[int, Any]:
        """One blocking request (run in a thread); the status and the JSON, else the text."""
        connection_class = (
            http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        )
        connection = connection_class(self._host, self._port, timeout=self._timeout)
        headers = {
            "Accept": "application/json",
            "X-SLURM-USER-NAME": self._user_name,
            "X-SLURM-USER-TOKEN": token,
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, self._base_path + path, payload, headers)
            response = connection.getresponse()
            raw = response.read()
        except TimeoutError:
            msg = f"slurmrestd at {self.url} did not answer within {self._timeout:g} s"
            raise SlurmTimeout(msg) from None
        except (OSError, http.client.HTTPException) as error:
            msg = f"slurmrestd at {self.url} cannot be reached: {error}"
            raise SlurmUnavailable(msg) from error
        finally:
            connection.close()
        text = raw.decode(errors="replace")
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text.strip()


def _error_text(error: dict[str, Any]) -> str:
    """``description: error`` as Slurm put them, without saying the same thing twice."""
    description = str(error.get("description") or "").strip()
    text = str(error.get("error") or "").strip()
    if not description or text in description:
        return description or text or "slurmrestd reported an error without a message"
    return f"{description}: {text}" if text else description
