"""Failing parts of the shared local cluster on purpose, for the fault tests; every daemon
stopped here is started again and every network cut restored, whatever the test does."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

# The cluster tool needs no venv.
CLUSTER_TOOL = [
    "/usr/bin/python3",
    str(Path(__file__).resolve().parents[2] / "cluster" / "slurm_cluster.py"),
]


async def run(*argv: str) -> None:
    """Off the event loop: the server and the provisioner under test go on meanwhile."""
    await asyncio.to_thread(subprocess.run, argv, check=True, capture_output=True)


@asynccontextmanager
async def daemon_stopped(daemon: str) -> AsyncIterator[None]:
    """``slurmctld``, ``slurmdbd`` or ``slurmd:nX`` stopped, then started and answering again."""
    await run(*CLUSTER_TOOL, "stop-daemon", daemon)
    try:
        yield
    finally:
        await run(*CLUSTER_TOOL, "start-daemon", daemon)


@asynccontextmanager
async def node_dead(node: str) -> AsyncIterator[None]:
    """slurmd gone and the node's network cut, as when a node crashes; restored afterwards."""
    link = ["ip", "netns", "exec", f"hpc-{node}", "ip", "link", "set", "eth0"]
    async with daemon_stopped(f"slurmd:{node}"):
        await run(*link, "down")
        try:
            yield
        finally:
            await run(*link, "up")
