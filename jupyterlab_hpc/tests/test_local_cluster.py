"""The local cluster the tests rely on is real: nodes with their own hostnames and networks."""

from __future__ import annotations

import pwd
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.tests.conftest import SubmitJob

pytestmark = pytest.mark.cluster


def test_every_configured_node_is_up(cluster: dict[str, Any]) -> None:
    states = subprocess.run(
        ["sinfo", "--noheader", "--Node", "--format=%N %t"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    state_by_node = dict(line.split() for line in states if line.strip())

    assert len(cluster["nodes"]) >= 4
    for node in cluster["nodes"]:
        assert state_by_node[node].rstrip("*") in {"idle", "mix", "alloc", "resv"}, node


def test_a_job_placed_on_n2_runs_there_in_its_own_network(
    submit_job: SubmitJob, jp_root_dir: Path
) -> None:
    output = jp_root_dir / "where.txt"  # a folder alice owns
    submit_job(
        "alice",
        "--nodelist=n2",
        "--partition=debug",
        f"--output={output}",
        command="hostname; readlink /proc/self/ns/net",
    )

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_lines(output)) < 2:
        time.sleep(0.5)

    hostname, network_namespace = _lines(output)
    assert hostname == "n2"
    assert network_namespace != str(Path("/proc/self/ns/net").readlink())


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_no_daemon_works_in_the_folder_it_was_started_from(cluster: dict[str, Any]) -> None:
    # A daemon outlives the shell or test that started it; job steps inherit slurmd's folder.
    run_dir = Path(cluster["dir"]) / "run"
    pids = {pidfile.stem: int(pidfile.read_text()) for pidfile in run_dir.glob("*.pid")}

    assert any(name.startswith("slurmd-") for name in pids)
    for name, pid in pids.items():
        folder = Path(f"/proc/{pid}/cwd").readlink()
        # "/" as started; MariaDB moves into its data folder by itself.
        assert folder == Path("/") or folder.is_relative_to(cluster["dir"]), (name, folder)


def test_the_simulated_users_are_real_unix_users_with_associations(
    cluster: dict[str, Any],
) -> None:
    """``up --users N`` (``make cluster`` asks for 2): each one can log in and submit."""
    assert len(cluster["extra_users"]) >= 2
    associations = subprocess.run(
        ["sacctmgr", "--noheader", "--parsable2", "show", "assoc", "format=User,Account"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for user in cluster["extra_users"]:
        home = Path(pwd.getpwnam(user).pw_dir)
        assert home.is_dir()
        assert home.stat().st_uid == pwd.getpwnam(user).pw_uid
        assert {f"{user}|{account}" for account in cluster["accounts"]} <= set(associations)


def test_the_site_user_is_an_operator_and_carol_coordinates_her_account(
    cluster: dict[str, Any],
) -> None:
    users = subprocess.run(
        ["sacctmgr", "--noheader", "--parsable2", "show", "user", "withcoord",
         "format=User,AdminLevel,Coordinators"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert f"{cluster['site_user']}|Operator|" in users
    ((account, (coordinator,)),) = cluster["coordinators"].items()
    assert f"{coordinator}|None|{account}" in users
    assert cluster["private_data"] == ""
