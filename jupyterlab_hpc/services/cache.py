"""A shared cache in front of Slurm: one query per data kind per interval, however many tabs poll.

Concurrent requests for the same key wait for one Slurm call. While Slurm fails, the failure
itself is cached for a growing back-off so an outage is not met with a stampede of retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Fresh(Generic[T]):
    """A value and when it was read from Slurm (ISO 8601 UTC)."""

    value: T
    updated: str


@dataclass
class _Entry:
    expires: float
    outcome: Fresh[Any] | Exception
    failures: int = 0


@dataclass
class SlurmCache:
    """Values by key, each kept ``ttl`` seconds (or its own, per ``get``); failures kept for
    an exponential back-off."""

    ttl: float
    max_backoff: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[Hashable, _Entry] = field(default_factory=dict)
    _inflight: dict[Hashable, asyncio.Future[Fresh[Any]]] = field(default_factory=dict)
    slurm_calls: int = 0  # how often Slurm was really asked; the load benchmark reads it

    async def get(
        self, key: Hashable, fetch: Callable[[], Awaitable[T]], *, ttl: float | None = None
    ) -> Fresh[T]:
        """The value under ``key``, fetched when it is older than ``ttl`` (default: the cache's)."""
        ttl = self.ttl if ttl is None else ttl
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry.expires:
            if isinstance(entry.outcome, Exception):
                raise entry.outcome
            return entry.outcome
        if key in self._inflight:
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[Fresh[Any]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            fresh = Fresh(await self._fetch(fetch), _now())
        except Exception as error:
            failures = (entry.failures if entry else 0) + 1
            backoff = min(ttl * 2 ** (failures - 1), self.max_backoff)
            self._entries[key] = _Entry(self.clock() + backoff, error, failures)
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            self._entries[key] = _Entry(self.clock() + ttl, fresh)
            future.set_result(fresh)
            return fresh
        finally:
            del self._inflight[key]

    def peek(self, key: Hashable) -> Fresh[Any] | None:
        """The value under ``key`` if one is cached and still fresh; never asks Slurm."""
        entry = self._entries.get(key)
        if entry is None or self.clock() >= entry.expires or isinstance(entry.outcome, Exception):
            return None
        return entry.outcome

    def invalidate(self) -> None:
        """Forget everything, e.g. after the user changed Slurm's state (cancel, submit)."""
        self._entries.clear()

    async def _fetch(self, fetch: Callable[[], Awaitable[T]]) -> T:
        self.slurm_calls += 1
        return await fetch()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
