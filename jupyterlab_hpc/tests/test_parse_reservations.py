"""Reservations from scontrol output captured on the real cluster."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.reservations import parse_reservations
from jupyterlab_hpc.slurm.records import Reservation

CAPTURED = Path(__file__).parent / "captured"


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


@pytest.fixture
def reservations(release: Path) -> dict[str, Reservation]:
    parsed = parse_reservations((release / "reservations.txt").read_text())
    return {reservation.name: reservation for reservation in parsed}


def _moment(value: str | None) -> datetime:
    assert value is not None
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_no_reservations_is_an_empty_list(release: Path) -> None:
    if not (release / "reservations_none.txt").exists():
        pytest.skip("captured while a reservation existed")
    assert parse_reservations((release / "reservations_none.txt").read_text()) == []


def test_a_maint_reservation_is_maintenance_with_its_window_in_utc(
    reservations: dict[str, Reservation],
) -> None:
    maint = reservations["capture_maint"]
    assert maint.is_maintenance
    assert {"MAINT", "IGNORE_JOBS"} <= set(maint.flags)
    assert (maint.nodes, maint.node_count, maint.partition) == ("n[1-4]", 4, None)
    assert (maint.users, maint.accounts, maint.state) == (("root",), (), "INACTIVE")
    assert (_moment(maint.end) - _moment(maint.start)).total_seconds() == 3600


def test_an_account_reservation_is_not_maintenance(reservations: dict[str, Reservation]) -> None:
    project = reservations["capture_proj1"]
    assert not project.is_maintenance
    assert (project.accounts, project.users, project.partition) == (("proj1",), (), "compute")
    assert (project.nodes, project.node_count) == ("n[1-2]", 2)


def test_the_json_shape_says_whether_it_is_maintenance(
    reservations: dict[str, Reservation],
) -> None:
    shape = reservations["capture_maint"].to_json()
    assert shape["maintenance"] is True
    assert shape["flags"][0] == "MAINT"
