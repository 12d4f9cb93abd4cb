"""GET /hpc/jobs/{id} in detail, and output of a job whose path is a pattern, as alice."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.tests.conftest import SubmitJob, as_user
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster


async def get_detail(jp_fetch: Any, job_id: str) -> dict[str, Any]:
    response = await jp_fetch("hpc", "jobs", job_id)
    assert_matches_openapi("/hpc/jobs/{job_id}", "GET", response.code, response.body)
    return dict(json.loads(response.body))


def seconds_between(earlier: str, later: str) -> float:
    def moment(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    return (moment(later) - moment(earlier)).total_seconds()


async def test_a_job_waiting_for_its_begin_time_estimates_its_start(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--partition=debug", "--time=5", "--begin=now+1hour")

    detail = await get_detail(jp_fetch, job_id)

    assert (detail["state"], detail["reason"]) == ("PENDING", "BeginTime")
    assert detail["start_time"] is None
    assert detail["efficiency"] is None
    assert 3590 <= seconds_between(detail["submit_time"], detail["estimated_start"]) <= 3610


async def test_a_script_jobs_detail_shows_its_command_with_arguments(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    script = jp_root_dir / "work.sh"
    script.write_text("#!/bin/sh\nsleep 300\n")
    script.chmod(0o755)
    job_id = subprocess.run(
        [*as_user("alice"), "sbatch", "--parsable", "--partition=debug", "--time=5", "--hold",
         f"--chdir={jp_root_dir}", "--output=/dev/null", str(script), "7", "two words"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        detail = await get_detail(jp_fetch, job_id)
    finally:
        subprocess.run(["scancel", job_id], check=False)

    assert detail["command"] == f"{script} 7 two words"


async def test_a_finished_job_has_its_cpu_efficiency_from_accounting(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job(
        "alice", "--partition=compute", "--time=2", command="timeout 3 sh -c 'while :; do :; done'"
    )
    deadline = time.monotonic() + 90  # the shared cluster may be busy
    detail = await get_detail(jp_fetch, job_id)
    while time.monotonic() < deadline and detail["efficiency"] is None:
        await asyncio.sleep(1)
        detail = await get_detail(jp_fetch, job_id)

    assert detail["state"] == "TIMEOUT" or detail["exit_code"] is not None
    assert detail["end_time"] is not None
    assert detail["efficiency"] is not None
    assert 0.3 < detail["efficiency"]["cpu"] <= 1.0


@pytest.mark.parametrize("bad_id", ["1;id", "$(id)", "12 13", "..", "1_x"])
async def test_a_malformed_job_id_is_a_400_and_runs_nothing(
    jp_fetch: Any, command_log: Path, bad_id: str
) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("hpc", "jobs", bad_id)

    assert refused.value.code == 400
    assert refused.value.response is not None
    assert_matches_openapi("/hpc/jobs/{job_id}", "GET", 400, refused.value.response.body)
    assert not command_log.exists()


async def test_output_is_read_from_the_file_slurmd_names_from_the_pattern(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    job_id = subprocess.run(
        [*as_user("alice"), "sbatch", "--parsable", "--partition=debug", "--time=1",
         f"--chdir={jp_root_dir}", "--job-name=tail", "--output=%x-%j.out",
         "--wrap=echo hello; sleep 60"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    output = jp_root_dir / f"tail-{job_id}.out"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (output.exists() and output.stat().st_size):
            await asyncio.sleep(0.2)
        chunk = json.loads((await jp_fetch("hpc", "jobs", job_id, "output")).body)
    finally:
        subprocess.run(["scancel", job_id], check=False)

    assert (chunk["path"], chunk["data"]) == (str(output), "hello\n")
