"""Fixtures: a Jupyter server with the extension, and the project's local Slurm cluster."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

CLUSTER_DIR = Path(os.environ.get("HPC_CLUSTER_DIR", "/var/tmp/jupyterlab-hpc-cluster"))
SERVER_USER = "alice"


def as_user(user: str) -> list[str]:
    """The command prefix that makes Slurm see ``user`` (the tests run as root)."""
    return ["runuser", "-u", user, "--"]


@pytest.fixture(scope="session")
def cluster() -> dict[str, Any]:
    """Facts about the running local cluster (``make cluster``)."""
    facts = CLUSTER_DIR / "cluster.json"
    if (
        not facts.exists()
        or subprocess.run(["scontrol", "ping"], capture_output=True, check=False).returncode
    ):
        message = f"the local Slurm cluster is not up ({facts}): run `make cluster`"
        if os.environ.get("HPC_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return dict(json.loads(facts.read_text()))


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "SlurmCommands": {"command_prefix": as_user(SERVER_USER), "timeout": 10.0},
    }


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
        subprocess.run(["scancel", *submitted], capture_output=True, check=False)
