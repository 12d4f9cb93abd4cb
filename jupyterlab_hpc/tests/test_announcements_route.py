"""GET /hpc/announcements: admin files and real maintenance reservations, as alice."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster


@pytest.fixture
def announcements_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "announcements"
    folder.mkdir()
    return folder


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], announcements_dir: Path) -> dict[str, Any]:
    extension = {
        **jp_server_config["HPCExtension"],
        "announcements_dir": str(announcements_dir),
        "maintenance_horizon_days": 1.0,
    }
    return {**jp_server_config, "HPCExtension": extension}


@pytest.fixture
def maintenance() -> Iterator[list[str]]:
    """Creates MAINT reservations as root (on every node, as admins do); deletes them after."""
    created: list[str] = []

    def create(starts_in: str) -> str:
        name = f"pytest_maint_{uuid.uuid4().hex[:6]}"
        subprocess.run(
            ["scontrol", "create", "reservation", f"ReservationName={name}",
             f"StartTime=now+{starts_in}", "Duration=60", "Nodes=ALL", "Users=root",
             "Flags=MAINT,IGNORE_JOBS"],
            check=True, capture_output=True,
        )  # fmt: skip
        created.append(name)
        return name

    yield create  # type: ignore[misc]
    for name in created:
        subprocess.run(["scontrol", "delete", f"ReservationName={name}"], check=False)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


async def get_announcements(jp_fetch: Any) -> dict[str, dict[str, Any]]:
    response = await jp_fetch("hpc", "announcements")
    assert_matches_openapi("/hpc/announcements", "GET", response.code, response.body)
    return {item["id"]: item for item in json.loads(response.body)["announcements"]}


async def test_maintenance_two_hours_ahead_is_announced_and_one_beyond_the_horizon_is_not(
    jp_fetch: Any, maintenance: Any
) -> None:
    soon = maintenance("2hours")
    later = maintenance("3days")

    shown = await get_announcements(jp_fetch)

    item = shown[f"maint:{soon}"]
    assert (item["source"], item["severity"], item["dismissible"]) == (
        "maintenance",
        "warning",
        True,
    )
    starts = datetime.fromisoformat(item["starts"].replace("Z", "+00:00"))
    assert abs((starts - datetime.now(timezone.utc)).total_seconds() - 7200) < 120
    assert "n[1-4]" in item["body"]
    assert f"maint:{later}" not in shown


async def test_admin_files_show_in_their_window_and_bad_ones_are_skipped(
    jp_fetch: Any, announcements_dir: Path
) -> None:
    now = datetime.now(timezone.utc)
    (announcements_dir / "current.md").write_text(
        f"---\ntitle: Scratch cleanup\nseverity: warning\nstarts: {iso(now - timedelta(hours=1))}"
        f"\nends: {iso(now + timedelta(hours=1))}\ndismissible: false\n---\n"
        "Files older than **30 days** are removed.\n"
    )
    (announcements_dir / "past.md").write_text(
        f"---\ntitle: Old news\nends: {iso(now - timedelta(minutes=1))}\n---\nGone.\n"
    )
    (announcements_dir / "broken.md").write_text("---\ntitle: Broken\nseverity: loud\n---\n")

    shown = await get_announcements(jp_fetch)

    current = shown["admin:current"]
    assert current == {
        "id": "admin:current",
        "title": "Scratch cleanup",
        "body": "Files older than **30 days** are removed.",
        "severity": "warning",
        "starts": iso(now - timedelta(hours=1)),
        "ends": iso(now + timedelta(hours=1)),
        "dismissible": False,
        "source": "admin",
    }
    assert "admin:past" not in shown
    assert "admin:broken" not in shown
