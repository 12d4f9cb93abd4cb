"""The shared Slurm cache: one query per interval, coalesced, with back-off on failure."""

from __future__ import annotations

import asyncio

import pytest

from jupyterlab_hpc.services.cache import SlurmCache
from jupyterlab_hpc.slurm.errors import SlurmUnavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSource:
    """Stands in for a Slurm query: counts calls, can be made slow or failing."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.delay = 0.0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            msg = "Unable to contact slurm controller"
            raise SlurmUnavailable(msg)
        return self.calls


async def test_within_the_interval_every_caller_gets_the_same_answer_from_one_query() -> None:
    clock, source = FakeClock(), CountingSource()
    cache = SlurmCache(ttl=5, clock=clock)

    first = await cache.get("jobs", source)
    clock.now += 4.9
    second = await cache.get("jobs", source)

    assert source.calls == 1
    assert second == first


async def test_after_the_interval_the_old_answer_comes_at_once_while_slurm_is_asked_again() -> None:
    clock, source = FakeClock(), CountingSource()
    source.delay = 0.05
    cache = SlurmCache(ttl=5, clock=clock)

    await cache.get("jobs", source)
    clock.now += 5.1
    stale = await asyncio.wait_for(cache.get("jobs", source), timeout=0.01)
    await asyncio.sleep(0.1)  # the refresh it started
    fresh = await cache.get("jobs", source)

    assert stale.value == 1
    assert (source.calls, fresh.value) == (2, 2)


async def test_an_answer_older_than_two_intervals_is_never_served() -> None:
    clock, source = FakeClock(), CountingSource()
    cache = SlurmCache(ttl=5, clock=clock)

    await cache.get("jobs", source)
    clock.now += 10.1
    fresh = await cache.get("jobs", source)

    assert (source.calls, fresh.value) == (2, 2)


async def test_a_read_under_way_when_the_cache_is_invalidated_is_not_kept() -> None:
    source = CountingSource()
    source.delay = 0.05
    cache = SlurmCache(ttl=5)

    before_the_change = asyncio.ensure_future(cache.get("jobs", source))
    await asyncio.sleep(0.01)
    cache.invalidate()  # e.g. a job was cancelled meanwhile
    after_the_change = await cache.get("jobs", source)
    await before_the_change

    assert after_the_change.value == 2
    assert (await cache.get("jobs", source)).value == 2


async def test_concurrent_requests_are_coalesced_into_one_query() -> None:
    source = CountingSource()
    source.delay = 0.05
    cache = SlurmCache(ttl=5)

    results = await asyncio.gather(*(cache.get("jobs", source) for _ in range(100)))

    assert source.calls == 1
    assert {result.value for result in results} == {1}
    assert cache.slurm_calls == 1


async def test_different_kinds_are_cached_apart() -> None:
    source = CountingSource()
    cache = SlurmCache(ttl=5)

    await cache.get(("jobs", True), source)
    await cache.get(("jobs", False), source)

    assert source.calls == 2


async def test_a_failure_is_served_from_cache_with_growing_backoff_then_recovers() -> None:
    clock, source = FakeClock(), CountingSource()
    cache = SlurmCache(ttl=2, max_backoff=6, clock=clock)
    source.fail = True

    for _ in range(3):
        with pytest.raises(SlurmUnavailable):
            await cache.get("jobs", source)
    assert source.calls == 1  # the outage is not met with a retry per request

    clock.now += 2.1  # first back-off (2 s) over: one new try, fails, next back-off 4 s
    with pytest.raises(SlurmUnavailable):
        await cache.get("jobs", source)
    clock.now += 3
    with pytest.raises(SlurmUnavailable):
        await cache.get("jobs", source)
    assert source.calls == 2

    source.fail = False
    clock.now += 1.1
    fresh = await cache.get("jobs", source)
    assert (source.calls, fresh.value) == (3, 3)


async def test_invalidate_forces_the_next_request_to_ask_slurm() -> None:
    source = CountingSource()
    cache = SlurmCache(ttl=60)

    await cache.get("jobs", source)
    cache.invalidate()
    await cache.get("jobs", source)

    assert source.calls == 2


async def test_each_data_kind_keeps_its_own_refresh_interval() -> None:
    clock, jobs, quotas = FakeClock(), CountingSource(), CountingSource()
    cache = SlurmCache(ttl=5, clock=clock)

    await cache.get("jobs", jobs)
    await cache.get("quotas", quotas, ttl=60)
    clock.now += 10
    await cache.get("jobs", jobs)
    await cache.get("quotas", quotas, ttl=60)

    assert (jobs.calls, quotas.calls) == (2, 1)


async def test_peek_offers_what_get_would_answer_at_once_and_never_asks_slurm() -> None:
    clock, source = FakeClock(), CountingSource()
    cache = SlurmCache(ttl=5, clock=clock)
    assert cache.peek("jobs") is None

    await cache.get("jobs", source)
    clock.now += 9.9
    within_one_more_interval = cache.peek("jobs")
    clock.now += 0.2
    older = cache.peek("jobs")

    assert within_one_more_interval is not None
    assert within_one_more_interval.value == 1
    assert older is None
    assert source.calls == 1
