"""Slurm daemons failing under the running server: the routes say so, then recover by
themselves. Each test stops one daemon of the shared local cluster for some seconds and
always starts it again, waiting until it answers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from jupyterlab_hpc.tests.cluster_faults import daemon_stopped
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = [pytest.mark.cluster, pytest.mark.faults]

# squeue gives up on a stopped slurmctld after about 9 s of retries; the runner's timeout
# must be longer for the outage to be reported as one (503) rather than as slowness (504).
TIMEOUT = 20.0


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    slurm = {**jp_server_config["SlurmConnection"], "timeout": TIMEOUT}
    # A real refresh interval: the failure is cached with a back-off that must end by itself.
    extension = {**jp_server_config["HPCExtension"], "jobs_refresh": 1.0}
    return {**jp_server_config, "SlurmConnection": slurm, "HPCExtension": extension}


async def status_of(jp_fetch: Any, route: str) -> tuple[int, str]:
    """The route's status and error message (empty on success), checked against OpenAPI."""
    response = await jp_fetch("hpc", route, raise_error=False)
    assert_matches_openapi(f"/hpc/{route}", "GET", response.code, response.body)
    return response.code, "" if response.code == 200 else json.loads(response.body)["message"]


async def test_without_slurmctld_jobs_are_a_503_until_it_is_back(jp_fetch: Any) -> None:
    assert (await status_of(jp_fetch, "jobs"))[0] == 200

    async with daemon_stopped("slurmctld"):
        await asyncio.sleep(2.1)  # the listing above is too old to be served while refreshed
        started = time.monotonic()
        code, message = await status_of(jp_fetch, "jobs")
        elapsed = time.monotonic() - started

    assert code == 503
    assert "Unable to contact slurm controller" in message
    assert elapsed < TIMEOUT
    deadline = time.monotonic() + 30  # the cached failure's back-off ends by itself
    while (await status_of(jp_fetch, "jobs"))[0] != 200:
        assert time.monotonic() < deadline, "/hpc/jobs did not recover after slurmctld came back"
        await asyncio.sleep(0.5)


async def test_without_slurmdbd_only_quotas_are_unavailable(jp_fetch: Any) -> None:
    async with daemon_stopped("slurmdbd"):
        quotas = await status_of(jp_fetch, "quotas")
        others = {route: (await status_of(jp_fetch, route))[0] for route in
                  ("jobs", "status", "partitions", "announcements")}  # fmt: skip

    assert quotas[0] == 503
    assert "Connection refused" in quotas[1]
    assert others == {"jobs": 200, "status": 200, "partitions": 200, "announcements": 200}


async def test_an_outage_is_logged_once_and_its_end_too(
    jp_fetch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with daemon_stopped("slurmctld"):
        await asyncio.sleep(2.1)
        codes = [(await status_of(jp_fetch, "jobs"))[0] for _ in range(3)]
    deadline = time.monotonic() + 30
    while (await status_of(jp_fetch, "jobs"))[0] != 200:
        assert time.monotonic() < deadline, "/hpc/jobs did not recover after slurmctld came back"
        await asyncio.sleep(0.5)

    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    infos = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert codes == [503, 503, 503]
    assert len([line for line in errors if "Slurm cannot be reached" in line]) == 1
    assert len([line for line in errors if line.startswith("503 GET")]) == 1  # not 3
    assert len([line for line in infos if "Slurm answers again" in line]) == 1
