"""A compute node dies under a remote kernel: the kernel is reported dead with the reason, and
nothing of it keeps running once the node is back. Uses the shared local cluster: the node's
slurmd is stopped and its network cut, then both are restored."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jupyterlab_hpc.tests.kernel_fixtures import (
    GRACE_PERIOD,
    SlurmKernels,
    active_in_queue,
    eventually,
    kernel_is_dead,
    provisioner_of,
    run_code,
    slurm_kernels_fixture,  # noqa: F401 - the fixture slurm_kernels
)

pytestmark = [pytest.mark.cluster, pytest.mark.faults]

CLUSTER_TOOL = [
    "/usr/bin/python3",
    str(Path(__file__).resolve().parents[2] / "cluster" / "slurm_cluster.py"),
]


@contextmanager
def node_dead(node: str) -> Iterator[None]:
    """slurmd gone and the node's network cut, as when a node crashes; restored afterwards."""
    link = ["ip", "netns", "exec", f"hpc-{node}", "ip", "link", "set", "eth0"]
    subprocess.run([*CLUSTER_TOOL, "stop-daemon", f"slurmd:{node}"], check=True)
    subprocess.run([*link, "down"], check=True)
    try:
        yield
    finally:
        subprocess.run([*link, "up"], check=True)
        subprocess.run([*CLUSTER_TOOL, "start-daemon", f"slurmd:{node}"], check=True)


def processes_in_network_of(namespace: str, user: str) -> list[int]:
    """PIDs of ``user``'s processes inside the node's network namespace."""
    node_network = subprocess.run(
        ["ip", "netns", "exec", namespace, "readlink", "/proc/self/ns/net"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True, check=True).stdout)
    found = []
    for process in Path("/proc").iterdir():
        try:
            if (
                process.stat().st_uid == uid
                and str((process / "ns" / "net").readlink()) == node_network
            ):
                found.append(int(process.name))
        except (FileNotFoundError, PermissionError, ValueError):
            continue
    return found


async def test_a_dead_node_reports_the_kernel_dead_and_leaves_nothing_running(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start()
    provisioner = provisioner_of(manager)
    node, job_id = provisioner.node, provisioner.job_id
    assert node is not None
    assert job_id is not None
    assert (await run_code(client, "print('alive')"))["stdout"] == "alive\n"

    with node_dead(node):
        await eventually(lambda: kernel_is_dead(manager), timeout=GRACE_PERIOD + 30)
        reason = provisioner.reason or ""

    assert node in reason
    assert job_id in reason
    # Back on the network, the node's slurmd and the launcher end whatever was left of the job.
    await eventually(lambda: not active_in_queue(job_id), timeout=60)
    await eventually(lambda: not processes_in_network_of(f"hpc-{node}", "alice"), timeout=60)
