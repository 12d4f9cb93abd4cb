"""At start the server says in one line how it reaches Slurm, or why it cannot and what to set,
before any route answers 503; and a config with a setting of an earlier release does not start
quietly the wrong way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.tests.conftest import SERVER_USER, as_user
from jupyterlab_hpc.tests.server_process import jupyter_server_process

pytestmark = pytest.mark.cluster


def log_once_it_says(workdir: Path, config: dict[str, Any], words: str) -> str:
    """The server's log, once it holds ``words`` (or after 30 s)."""
    log = workdir / "server.log"
    with jupyter_server_process(workdir, {"ServerApp": {"root_dir": str(workdir)}, **config}):
        deadline = time.monotonic() + 30
        while words not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    return log.read_text()


def test_a_reachable_cluster_is_named_with_its_slurm_and_user(
    tmp_path: Path, cluster: dict[str, Any]
) -> None:
    config = {"SlurmConnection": {"command_prefix": as_user(SERVER_USER)}}

    log = log_once_it_says(tmp_path, config, "through the commands backend")

    assert (
        f"jupyterlab_hpc: cluster {cluster['cluster']}, Slurm {cluster['slurm_version']}, "
        f"as {SERVER_USER}, through the commands backend"
    ) in log


def test_slurm_out_of_reach_is_said_once_naming_the_setting(tmp_path: Path) -> None:
    # A prefix whose far side has no Slurm commands, as a wrong ssh host would.
    config = {"SlurmConnection": {"command_prefix": ["env", "PATH=/nonexistent"]}}

    log = log_once_it_says(tmp_path, config, "cannot be reached")

    lines = [line for line in log.splitlines() if "cannot be reached" in line]
    assert len(lines) == 1
    assert "through the commands backend" in lines[0]
    assert "c.SlurmConnection" in lines[0]


def test_a_setting_of_an_earlier_release_stops_the_extension_naming_the_new_one(
    tmp_path: Path,
) -> None:
    config = {"SlurmCommands": {"command_prefix": as_user(SERVER_USER)}}

    log = log_once_it_says(tmp_path, config, "settings moved")

    refusals = [line for line in log.splitlines() if "jupyterlab_hpc is not started" in line]
    assert len(refusals) == 1
    assert "c.SlurmCommands.command_prefix is now c.SlurmConnection.command_prefix" in refusals[0]
    assert "[E " in refusals[0]  # an error, not a warning
    assert "through the commands backend" not in log  # it did not go on the old way
    assert "AttributeError" not in log  # nor stumbled on at start and stop
