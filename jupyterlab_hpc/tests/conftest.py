"""Fixtures: a Jupyter server with the extension, and the project's local Slurm cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

CLUSTER_DIR = Path(os.environ.get("HPC_CLUSTER_DIR", "/var/tmp/jupyterlab-hpc-cluster"))
SERVER_USER = "alice"


def _cluster_prefix() -> list[str]:
    """What runs a command with the cluster's own Slurm: nothing for the host's, a chroot for
    another release's cluster (``slurm_cluster.py up --release``; its cluster.json says)."""
    try:
        facts = json.loads((CLUSTER_DIR / "cluster.json").read_text())
    except (OSError, ValueError):
        return []
    return list(facts.get("command_prefix", []))


CLUSTER_PREFIX = _cluster_prefix()


def as_user(user: str) -> list[str]:
    """The command prefix that makes Slurm see ``user`` (the tests run as root)."""
    return [*CLUSTER_PREFIX, "runuser", "-u", user, "--"]


@pytest.fixture(scope="session")
def cluster() -> dict[str, Any]:
    """Facts about the running local cluster (``make cluster``)."""
    facts = CLUSTER_DIR / "cluster.json"
    if (
        not facts.exists()
        or subprocess.run(
            [*CLUSTER_PREFIX, "scontrol", "ping"], capture_output=True, check=False
        ).returncode
    ):
        message = f"the local Slurm cluster is not up ({facts}): run `make cluster`"
        if os.environ.get("HPC_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return dict(json.loads(facts.read_text()))


@pytest.fixture
def command_log(tmp_path: Path) -> Path:
    """Every Slurm command the server runs, one line each (see ``recording_prefix``)."""
    return tmp_path / "commands.log"


@pytest.fixture
def recording_prefix(tmp_path: Path, command_log: Path) -> list[str]:
    """A real command prefix, like a site's ``ssh login01``, that also logs each command."""
    recorder = tmp_path / "record-and-run"
    recorder.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {command_log}\nexec "$@"\n')
    recorder.chmod(0o755)
    return [str(recorder), *as_user(SERVER_USER)]


@pytest.fixture
def jp_server_config(recording_prefix: list[str]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "SlurmConnection": {"command_prefix": recording_prefix, "timeout": 10.0},
        "HPCExtension": {"jobs_refresh": 0.0},
    }


def server_config_through(
    backend: str, recording_prefix: list[str], cluster: dict[str, Any]
) -> dict[str, Any]:
    """The server as alice, reaching Slurm through ``backend`` (commands or slurmrestd)."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "HPCExtension": {"jobs_refresh": 0.0},
        "SlurmConnection": {
            "backend": backend,
            "command_prefix": recording_prefix,
            "timeout": 10.0,
            "rest_url": cluster["rest_url"],
            "rest_user_name": SERVER_USER,
            "rest_token_command": [*as_user(SERVER_USER), "scontrol", "token", "lifespan=600"],
        },
    }


@pytest.fixture
def jp_root_dir() -> Iterator[Path]:
    """The server's root, owned by the user Slurm runs jobs as, so jobs can use it."""
    root = Path(tempfile.mkdtemp(prefix="hpc-root-", dir="/tmp"))
    shutil.chown(root, SERVER_USER, SERVER_USER)
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


SubmitJob = Callable[..., str]


@pytest.fixture
def submit_job(cluster: dict[str, Any]) -> Iterator[SubmitJob]:
    """Submit real jobs as a given user; every one is cancelled after the test."""
    submitted: list[str] = []

    def submit(user: str = SERVER_USER, *sbatch_args: str, command: str = "sleep 300") -> str:
        name = f"pytest-{uuid.uuid4().hex[:8]}"
        argv = [
            *as_user(user),
            "sbatch",
            "--parsable",
            f"--job-name={name}",
            "--chdir=/tmp",
            "--output=/dev/null",
            *sbatch_args,
            f"--wrap={command}",
        ]
        job_id = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
        submitted.append(job_id)
        return job_id

    yield submit
    if submitted:
        subprocess.run([*CLUSTER_PREFIX, "scancel", *submitted], capture_output=True, check=False)
