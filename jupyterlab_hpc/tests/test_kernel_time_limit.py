"""A kernel's job at its time limit, on the real cluster: about 80 s, as Slurm's shortest
time limit is one minute (and slurmctld checks limits every 30 s), so it has a file of its own."""

from __future__ import annotations

import pytest

from jupyterlab_hpc.tests.kernel_fixtures import (
    SlurmKernels,
    eventually,
    kernel_is_dead,
    provisioner_of,
    slurm_kernels_fixture,  # noqa: F401 - the fixture slurm_kernels
)

pytestmark = pytest.mark.cluster


async def test_a_job_at_its_time_limit_warns_then_reports_the_kernel_dead(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, _ = await slurm_kernels.start({"walltime_warning": 30}, resources={"time": "1"})
    provisioner = provisioner_of(manager)

    await eventually(lambda: provisioner.walltime_warning_at is not None, timeout=75)
    await eventually(lambda: kernel_is_dead(manager), timeout=75)

    assert provisioner.reason is not None
    assert "reached its time limit" in provisioner.reason
    assert provisioner.job_status is not None
    assert provisioner.job_status.state == "TIMEOUT"
