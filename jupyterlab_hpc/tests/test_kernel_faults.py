"""Slurm failing under a running remote kernel, on the shared local cluster: every daemon
stopped here is started again, every network cut restored."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from jupyter_client.manager import AsyncKernelManager

from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner
from jupyterlab_hpc.tests.cluster_faults import daemon_stopped, node_dead
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX
from jupyterlab_hpc.tests.kernel_fixtures import (
    GRACE_PERIOD,
    SlurmKernels,
    active_in_queue,
    eventually,
    kernel_is_dead,
    processes_of_job,
    provisioner_and_job,
    run_code,
    slurm_kernels_fixture,  # noqa: F401 - the fixture slurm_kernels
    squeue_state,
)

pytestmark = [pytest.mark.cluster, pytest.mark.faults]


async def running_kernel(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> tuple[AsyncKernelManager, SlurmProvisioner, str, str]:
    """A remote kernel that has run code, its provisioner, its node and its job id. It takes
    all the node's CPUs, so it runs alone there: killing or preempting its node ends no other
    job (the demo's, another test's)."""
    manager, client = await slurm_kernels.start(resources={"cpus": cluster["node_cpus"]})
    provisioner, job_id = provisioner_and_job(manager)
    node = provisioner.node
    assert node is not None
    assert (await run_code(client, "print('alive')"))["stdout"] == "alive\n"
    return manager, provisioner, node, job_id


async def test_a_kernel_outlives_a_slurmctld_restart_in_its_job(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start()
    provisioner, job_id = provisioner_and_job(manager)
    await run_code(client, "x = 41")

    async with daemon_stopped("slurmctld"):
        during = await run_code(client, "x += 1; print(x)")
        alive_during = await manager.is_alive()

    assert during["stdout"] == "42\n"
    assert alive_during
    assert await manager.is_alive()
    assert provisioner.job_id == job_id
    assert active_in_queue(job_id)
    assert (await run_code(client, "print(x + 1)"))["stdout"] == "43\n"


async def test_a_dead_node_reports_the_kernel_dead_and_leaves_nothing_running(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, provisioner, node, job_id = await running_kernel(slurm_kernels, cluster)

    async with node_dead(node):
        await eventually(lambda: kernel_is_dead(manager), timeout=GRACE_PERIOD + 30)
        reason = provisioner.reason or ""

    assert node in reason
    assert job_id in reason
    # Back on the network, the node's slurmd and the launcher end whatever was left of the job.
    # This job's processes only, found by its id: alice may have others anywhere.
    await eventually(lambda: not active_in_queue(job_id), timeout=60)
    await eventually(lambda: not processes_of_job(job_id), timeout=60)


async def test_a_preempted_kernel_is_reported_with_the_reason_and_leaves_nothing_running(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, provisioner, node, job_id = await running_kernel(slurm_kernels, cluster)

    # A job of the higher-tier partition wants the kernel's node whole: Slurm cancels the kernel's
    # (the only job there).
    urgent = subprocess.run(
        [*CLUSTER_PREFIX, "sbatch", "--parsable", f"--partition={cluster['preempting_partition']}",
         f"--nodelist={node}", "--exclusive", "--output=/dev/null", "--wrap=sleep 300"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        await eventually(lambda: kernel_is_dead(manager), timeout=30)
        await eventually(lambda: squeue_state(urgent) == "RUNNING", timeout=30)
    finally:
        subprocess.run([*CLUSTER_PREFIX, "scancel", urgent], check=True)

    assert provisioner.reason is not None
    assert "preempted by a higher-priority job" in provisioner.reason
    assert job_id in provisioner.reason
    assert provisioner.job_status is not None
    assert provisioner.job_status.state == "PREEMPTED"
    assert not active_in_queue(job_id)
    await eventually(lambda: not processes_of_job(job_id), timeout=30)
