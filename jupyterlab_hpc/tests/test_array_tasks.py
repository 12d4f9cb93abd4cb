"""Array task ids name exactly one task (real cluster, alice, both backends): a task that does not
exist is a 404 and runs no action, where it once stood for the whole array."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.tests.conftest import (
    CLUSTER_PREFIX,
    SubmitJob,
    as_user,
    server_config_through,
)
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster

USER = "alice"
TASKS = ("1", "2", "3")


@pytest.fixture(params=["commands", "slurmrestd"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jp_server_config(
    recording_prefix: list[str], backend_name: str, cluster: dict[str, Any]
) -> dict[str, Any]:
    """The server as alice, through each backend in turn."""
    return server_config_through(backend_name, recording_prefix, cluster)


def task_states(array_id: str) -> dict[str, str]:
    """Each task's state as root sees it, tasks listed one by one (``--array``)."""
    output = subprocess.run(
        [*CLUSTER_PREFIX, "squeue", "--noheader", "--array", "--states=all",
         f"--jobs={array_id}", "--format=%i %T"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(line.split() for line in output.splitlines())


def actions_run(command_log: Path) -> list[str]:
    """The commands backend's actions; the slurmrestd backend runs none through the prefix."""
    lines = command_log.read_text().splitlines() if command_log.exists() else []
    return [line for line in lines if " scancel " in line or " scontrol " in line]


@pytest.mark.parametrize("missing", ["_9", "_[9]", "_[4-5]"])
async def test_a_task_that_does_not_exist_is_a_404_and_nothing_is_cancelled(
    jp_fetch: Any, submit_job: SubmitJob, command_log: Path, missing: str
) -> None:
    array_id = submit_job(USER, "--partition=debug", "--time=5", "--hold", "--array=1-3")
    before = task_states(array_id)

    for method, action in (("DELETE", ()), ("POST", ("hold",)), ("POST", ("release",))):
        route = "/hpc/jobs/{job_id}" + "".join(f"/{word}" for word in action)
        body = None if method == "DELETE" else ""
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("hpc", "jobs", array_id + missing, *action, method=method, body=body)

        assert refused.value.code == 404
        assert refused.value.response is not None
        assert_matches_openapi(route, method, 404, refused.value.response.body)
    with pytest.raises(HTTPClientError) as unknown:
        await jp_fetch("hpc", "jobs", array_id + missing)

    assert unknown.value.code == 404
    assert actions_run(command_log) == []
    assert before == {f"{array_id}_{task}": "PENDING" for task in TASKS}
    assert task_states(array_id) == before


async def test_cancelling_one_task_leaves_the_others_waiting(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    array_id = submit_job(USER, "--partition=debug", "--time=5", "--hold", "--array=1-3")
    # Task 2 gets a record of its own, as a task that starts does, so that every backend lists
    # it by its id (slurmrestd lists a pending array's tasks as one record, 1234_[1-3]).
    subprocess.run([*as_user(USER), "scontrol", "update", f"JobId={array_id}_2", "Comment=own"],
                   capture_output=True, check=True)  # fmt: skip

    response = await jp_fetch("hpc", "jobs", f"{array_id}_2", method="DELETE")

    assert response.code == 204
    states = task_states(array_id)
    assert (states[f"{array_id}_1"], states[f"{array_id}_3"]) == ("PENDING", "PENDING")
    assert states.get(f"{array_id}_2", "CANCELLED") == "CANCELLED"
    listed = {job["id"] for job in json.loads((await jp_fetch("hpc", "jobs")).body)["jobs"]}
    assert f"{array_id}_2" not in listed
