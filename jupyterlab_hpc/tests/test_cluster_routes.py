"""GET /hpc/status, /hpc/partitions and /hpc/quotas against the real cluster, as alice."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jupyterlab_hpc.slurm.notation import time_seconds
from jupyterlab_hpc.tests.conftest import SubmitJob
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster


async def get_json(jp_fetch: Any, route: str, **params: str) -> dict[str, Any]:
    response = await jp_fetch("hpc", route, params=params)
    assert_matches_openapi(f"/hpc/{route}", "GET", response.code, response.body)
    return dict(json.loads(response.body))


async def test_status_names_the_cluster_its_slurm_and_alices_accounts(
    jp_fetch: Any, cluster: dict[str, Any]
) -> None:
    status = await get_json(jp_fetch, "status")

    assert status == {
        "cluster": cluster["cluster"],
        "slurm_version": cluster["slurm_version"],
        "backend": "commands",
        "user": "alice",
        "default_account": cluster["default_accounts"]["alice"],
        "accounts": sorted(
            name for name, account in cluster["accounts"].items() if "alice" in account["users"]
        ),
        "site": None,
        "ok": True,
    }


async def test_partitions_count_the_clusters_real_nodes_cpus_gpus_and_memory(
    jp_fetch: Any, cluster: dict[str, Any]
) -> None:
    listing = await get_json(jp_fetch, "partitions")

    shown = {partition["name"]: partition for partition in listing["partitions"]}
    for expected in cluster["partitions"]:
        partition = shown[expected["name"]]
        nodes = expected["nodes"]
        gpus = sum(int(cluster["gres"].get(node, "gpu:0").split(":")[1]) for node in nodes)
        assert partition["state"] == "UP"
        assert partition["default"] is expected["default"]
        assert partition["max_time"] == time_seconds(expected["max_time"])
        assert partition["default_time"] == time_seconds(expected["default_time"])
        assert partition["nodes"]["total"] == len(nodes)
        usable = ("idle", "mixed", "allocated")
        assert sum(partition["nodes"][state] for state in usable) == len(nodes)
        assert partition["cpus"]["total"] == len(nodes) * cluster["node_cpus"]
        assert 0 <= partition["cpus"]["idle"] <= partition["cpus"]["total"]
        assert partition["gpus"]["total"] == gpus
        assert partition["memory_mb"] == len(nodes) * cluster["node_memory_mb"]
        assert partition["allowed"] is True


@pytest.fixture
def closed_partition() -> Iterator[str]:
    """A partition alice's accounts may not use, for as short as a test takes (DOWN: no job runs
    there, and a non-default partition draws no one else's jobs). Not AllowGroups: Slurm hides
    a partition from users outside its groups altogether."""
    name = f"pytest_{uuid.uuid4().hex[:6]}"
    subprocess.run(
        ["scontrol", "create", f"PartitionName={name}", "Nodes=n1", "State=DOWN",
         "DenyAccounts=proj1,proj2"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    yield name
    subprocess.run(["scontrol", "delete", f"PartitionName={name}"], check=False)


async def test_a_partition_that_denies_alices_accounts_is_shown_but_not_allowed(
    jp_fetch: Any, closed_partition: str
) -> None:
    listing = await get_json(jp_fetch, "partitions")

    shown = {partition["name"]: partition for partition in listing["partitions"]}
    assert shown[closed_partition]["allowed"] is False
    assert shown[closed_partition]["state"] == "DOWN"
    assert shown["debug"]["allowed"] is True


async def test_quotas_show_each_of_alices_accounts_with_its_enforced_limits(
    jp_fetch: Any, cluster: dict[str, Any]
) -> None:
    quotas = await get_json(jp_fetch, "quotas")

    accounts = {quota["account"]: quota for quota in quotas["accounts"]}
    assert set(accounts) == {"proj1", "proj2"}
    assert (accounts["proj1"]["default"], accounts["proj2"]["default"]) == (True, False)
    for name, quota in accounts.items():
        expected = cluster["accounts"][name]
        limits = {(limit["name"], limit["tres"]): limit for limit in quota["limits"]}
        assert set(limits) == {("GrpTRES", "cpu"), ("GrpTRESMins", "cpu"), ("MaxWall", None)}
        assert limits["GrpTRES", "cpu"]["limit"] == int(expected["grp_tres"].split("=")[1])
        assert limits["GrpTRESMins", "cpu"]["limit"] == int(expected["grp_tres_mins"].split("=")[1])
        assert limits["GrpTRESMins", "cpu"]["unit"] == "cpu-minutes"
        assert limits["MaxWall", None]["limit"] == expected["max_wall_minutes"]
        for limit in (limits["GrpTRES", "cpu"], limits["GrpTRESMins", "cpu"]):
            assert limit["used"] >= 0
            assert limit["fraction"] == round(limit["used"] / limit["limit"], 4)
        assert 0.0 <= quota["fairshare"] <= 1.0


def running_within(job_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["squeue", "--noheader", "--jobs", job_id, "--format=%T"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if state == "RUNNING":
            return True
        time.sleep(0.5)
    return False


async def test_a_running_job_counts_against_its_accounts_cpu_limit(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--account=proj2", "--partition=compute", "--time=5")
    if not running_within(job_id, 20):
        pytest.skip("the shared cluster is too busy to start a job now")

    quotas = await get_json(jp_fetch, "quotas")

    (proj2,) = (quota for quota in quotas["accounts"] if quota["account"] == "proj2")
    cpus = next(limit for limit in proj2["limits"] if limit["name"] == "GrpTRES")
    assert cpus["used"] >= 1
    assert cpus["scope"] == "account"


@pytest.mark.parametrize("route", ["status", "partitions", "quotas", "announcements"])
async def test_an_unchanged_view_costs_a_304_on_the_second_request(
    jp_fetch: Any, route: str
) -> None:
    first = await jp_fetch("hpc", route)
    etag = first.headers["Etag"]

    second = await jp_fetch("hpc", route, headers={"If-None-Match": etag}, raise_error=False)

    assert second.code == 304
    assert second.body == b""
    assert_matches_openapi(f"/hpc/{route}", "GET", 304, second.body)


async def test_an_unchanged_job_listing_costs_a_304_even_when_read_again_from_slurm(
    jp_fetch: Any,
) -> None:
    # jobs_refresh is 0 in the tests: each request runs squeue and gets a new "updated".
    params = {"state": "BOOT_FAIL"}  # a listing nobody's jobs change
    first = await jp_fetch("hpc", "jobs", params=params)

    second = await jp_fetch(
        "hpc", "jobs", params=params, headers={"If-None-Match": first.headers["Etag"]},
        raise_error=False,
    )  # fmt: skip

    assert second.code == 304


@pytest.mark.parametrize(
    "path", ["status", "partitions", "quotas", "announcements", "jobs/123", "jobs/123/output"]
)
async def test_an_unauthenticated_request_is_refused(
    http_server_client: Any, jp_base_url: str, command_log: Any, path: str
) -> None:
    response = await http_server_client.fetch(f"{jp_base_url}hpc/{path}", raise_error=False)

    assert response.code == 403
    assert not command_log.exists()
