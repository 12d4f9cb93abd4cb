"""A shared cache in front of Slurm: one query per data kind per interval, however many tabs poll.

Concurrent requests for the same key wait for one Slurm call. A value out of date by less than
one interval is served while one read refreshes it. While Slurm fails, the failure itself is
cached for a growing back-off so an outage is not met with a stampede of retries.
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
    _generation: int = 0  # bumped by invalidate()
    slurm_calls: int = 0  # how often Slurm was really asked; the load benchmark reads it

    async def get(
        self, key: Hashable, fetch: Callable[[], Awaitable[T]], *, ttl: float | None = None
    ) -> Fresh[T]:
        """The value under ``key``, fetched when it is older than ``ttl`` (default: the cache's)."""
        ttl = self.ttl if ttl is None else ttl
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and now < entry.expires:
            if isinstance(entry.outcome, Exception):
                raise entry.outcome
            return entry.outcome
        read = self._inflight.get(key) or self._start_read(key, fetch, ttl, entry)
        if entry is not None and isinstance(entry.outcome, Fresh) and now < entry.expires + ttl:
            # Out of date by less than one interval: answer with it at once while the read
            # above refreshes it, so no poll waits for a slow squeue on a big queue.
            return entry.outcome
        return await asyncio.shield(read)

    def peek(self, key: Hashable, *, ttl: float | None = None) -> Fresh[Any] | None:
        """The value ``get`` would answer with at once (fresh, or out of date by less than one
        interval), if there is one; never asks Slurm."""
        ttl = self.ttl if ttl is None else ttl
        entry = self._entries.get(key)
        if entry is None or isinstance(entry.outcome, Exception):
            return None
        return entry.outcome if self.clock() < entry.expires + ttl else None

    def invalidate(self) -> None:
        """Forget everything, e.g. after the user changed Slurm's state (cancel, submit).
        Reads already under way may predate the change: their results are dropped."""
        self._entries.clear()
        self._inflight.clear()
        self._generation += 1

    def _start_read(
        self,
        key: Hashable,
        fetch: Callable[[], Awaitable[Any]],
        ttl: float,
        entry: _Entry | None,
    ) -> asyncio.Task[Fresh[Any]]:
        read = asyncio.ensure_future(self._read(key, fetch, ttl, entry))
        # A refresh nobody waits for may fail: its error is kept in the entry, not lost.
        read.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._inflight[key] = read
        return read

    async def _read(
        self,
        key: Hashable,
        fetch: Callable[[], Awaitable[Any]],
        ttl: float,
        entry: _Entry | None,
    ) -> Fresh[Any]:
        generation = self._generation
        try:
            self.slurm_calls += 1
            fresh = Fresh(await fetch(), _now())
        except Exception as error:
            failures = (entry.failures if entry else 0) + 1
            backoff = min(ttl * 2 ** (failures - 1), self.max_backoff)
            self._keep(key, generation, _Entry(self.clock() + backoff, error, failures))
            raise
        self._keep(key, generation, _Entry(self.clock() + ttl, fresh))
        return fresh

    def _keep(self, key: Hashable, generation: int, entry: _Entry) -> None:
        if generation == self._generation:
            self._entries[key] = entry
            self._inflight.pop(key, None)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
