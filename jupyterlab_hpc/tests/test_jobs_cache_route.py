"""With a refresh interval, every tab shares one squeue per interval (real cluster)."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.tests.conftest import SubmitJob

pytestmark = pytest.mark.cluster


@pytest.fixture
def jp_server_config(recording_prefix: list[str]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "SlurmConnection": {"command_prefix": recording_prefix, "timeout": 10.0},
        "HPCExtension": {"jobs_refresh": 60.0},
    }


def squeue_runs(command_log: Path) -> int:
    lines = command_log.read_text().splitlines() if command_log.exists() else []
    return sum(" squeue " in f" {line} " for line in lines)


async def job_ids(jp_fetch: Any, scope: str) -> set[str]:
    response = await jp_fetch("hpc", "jobs", params={"scope": scope})
    return {job["id"] for job in json.loads(response.body)["jobs"]}


async def test_fifty_tabs_polling_at_once_cost_one_squeue(jp_fetch: Any, command_log: Path) -> None:
    listings = await asyncio.gather(*(job_ids(jp_fetch, "all") for _ in range(50)))

    assert all(listing == listings[0] for listing in listings)
    assert squeue_runs(command_log) == 1


async def test_my_jobs_are_cut_from_a_fresh_listing_of_everyones(
    jp_fetch: Any, command_log: Path, submit_job: SubmitJob
) -> None:
    mine_job = submit_job("alice", "--partition=debug", "--time=5", "--hold")
    bobs_job = submit_job("bob", "--partition=debug", "--time=5", "--hold")

    everyone = await job_ids(jp_fetch, "all")
    mine = await job_ids(jp_fetch, "mine")

    assert {mine_job, bobs_job} <= everyone
    assert mine_job in mine
    assert bobs_job not in mine
    assert squeue_runs(command_log) == 1


async def test_an_unchanged_listing_costs_a_304(jp_fetch: Any) -> None:
    first = await jp_fetch("hpc", "jobs")

    with pytest.raises(HTTPClientError) as unchanged:
        await jp_fetch("hpc", "jobs", headers={"If-None-Match": first.headers["Etag"]})

    assert unchanged.value.code == 304


async def test_browsers_get_a_big_listing_gzipped_under_a_tag_of_its_own(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    for _ in range(8):  # enough jobs for a body worth compressing
        submit_job("bob", "--partition=debug", "--time=5", "--hold")

    async def get(accept_encoding: str, etag: str = "") -> Any:
        headers = {"Accept-Encoding": accept_encoding, **({"If-None-Match": etag} if etag else {})}
        return await jp_fetch(
            "hpc", "jobs", params={"scope": "all"}, headers=headers, raise_error=False,
            decompress_response=False,
        )  # fmt: skip

    plain = await get("identity")
    zipped = await get("gzip, deflate, br")
    again = await get("gzip", etag=zipped.headers["Etag"])

    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body) / 3
    assert zipped.headers["Etag"] != plain.headers["Etag"]
    assert zipped.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    assert again.code == 304
