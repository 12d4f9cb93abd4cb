"""Cluster name and Slurm version from ``scontrol show config`` captured on the real cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.cluster_info import parse_cluster_info

CAPTURED = Path(__file__).parent / "captured"


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def test_the_cluster_name_and_slurmctlds_release_are_read(release: Path) -> None:
    info = parse_cluster_info((release / "scontrol_config.txt").read_text())
    assert info is not None
    assert info.cluster == "hpc"
    assert info.slurm_version.startswith(release.name.removeprefix("slurm-") + ".")


def test_output_without_them_is_no_answer() -> None:
    assert (
        parse_cluster_info("slurm_load_ctl_conf error: Unable to contact slurm controller") is None
    )
