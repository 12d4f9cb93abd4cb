"""GET /hpc/jobs against the real cluster, through the Jupyter server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.tests.conftest import SubmitJob
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster


async def get_jobs(jp_fetch: Any, **params: str) -> list[dict[str, Any]]:
    response = await jp_fetch("hpc", "jobs", params=params)
    assert_matches_openapi("/hpc/jobs", "GET", response.code, response.body)
    body = json.loads(response.body)
    assert body["updated"].endswith("Z")
    return list(body["jobs"])


async def test_my_jobs_lists_a_job_just_submitted_with_its_fields(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--partition=debug", "--account=proj1", "--time=5")

    jobs = {job["id"]: job for job in await get_jobs(jp_fetch)}

    job = jobs[job_id]
    assert job["name"].startswith("pytest-")
    assert job["user"] == "alice"
    assert job["account"] == "proj1"
    assert job["partition"] == "debug"
    assert job["state"] in {"PENDING", "RUNNING"}
    assert job["time_limit"] == 300
    assert job["cpus"] >= 1
    if job["state"] == "RUNNING":
        assert job["nodes"] in {"n1", "n2"}
        assert job["reason_text"] is None
    else:
        assert job["nodes"] is None


async def test_my_jobs_hide_other_users_jobs_that_scope_all_shows(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    bobs_job = submit_job("bob", "--partition=debug", "--time=5")

    mine = {job["id"] for job in await get_jobs(jp_fetch, scope="mine")}
    everyone = {job["id"]: job for job in await get_jobs(jp_fetch, scope="all")}

    assert bobs_job not in mine
    assert everyone[bobs_job]["user"] == "bob"


async def test_a_pending_job_explains_why_it_waits(jp_fetch: Any, submit_job: SubmitJob) -> None:
    held = submit_job("alice", "--partition=debug", "--time=5", "--hold")

    job = {job["id"]: job for job in await get_jobs(jp_fetch)}[held]

    assert job["state"] == "PENDING"
    assert job["reason"] == "JobHeldUser"
    assert job["reason_text"] == "Held by you: release it to let it start"


async def test_an_unknown_scope_is_a_400_naming_the_choices(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("hpc", "jobs", params={"scope": "everything"})

    assert refused.value.code == 400
    assert refused.value.response is not None
    assert_matches_openapi("/hpc/jobs", "GET", 400, refused.value.response.body)
    assert "scope must be one of: mine, all" in json.loads(refused.value.response.body)["message"]


async def test_an_unauthenticated_request_is_refused(
    http_server_client: Any, jp_base_url: str
) -> None:
    response = await http_server_client.fetch(f"{jp_base_url}hpc/jobs", raise_error=False)

    assert response.code == 403
    assert b'"jobs"' not in response.body


async def test_the_openapi_document_is_served_and_describes_every_route(jp_fetch: Any) -> None:
    response = await jp_fetch("hpc", "openapi.json")

    document = json.loads(response.body)
    assert document["openapi"].startswith("3.")
    assert {"/hpc/jobs", "/hpc/jobs/{job_id}", "/hpc/jobs/{job_id}/output"} <= set(
        document["paths"]
    )
