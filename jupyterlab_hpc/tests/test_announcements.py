"""Admin announcement files: front matter, validation, the window in which they are shown."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jupyterlab_hpc.services.announcements import (
    maintenance_announcement,
    parse_announcement,
    read_admin_announcements,
)
from jupyterlab_hpc.services.front_matter import FrontMatterError
from jupyterlab_hpc.slurm.records import Reservation

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=timezone.utc)


def test_a_complete_file_gives_every_field_and_keeps_the_markdown_body() -> None:
    announcement = parse_announcement(
        "---\ntitle: 'Storage: /scratch is full'\nseverity: Error\nstarts: 2026-10-20T08:00Z\n"
        "ends: 2026-10-21T10:00:00+02:00\ndismissible: no\n---\n\n# Please\n\n- clean up\n",
        "scratch",
    )
    assert announcement.to_json() == {
        "id": "admin:scratch",
        "title": "Storage: /scratch is full",
        "body": "# Please\n\n- clean up",
        "severity": "error",
        "starts": "2026-10-20T08:00:00Z",
        "ends": "2026-10-21T08:00:00Z",
        "dismissible": False,
        "source": "admin",
    }


def test_only_a_title_is_required() -> None:
    announcement = parse_announcement("---\ntitle: Welcome\n---\nHello", "welcome")
    assert (announcement.severity, announcement.dismissible) == ("info", True)
    assert (announcement.starts, announcement.ends) == (None, None)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("title: no fences\n", "does not start"),
        ("---\ntitle: never closed\n", "not closed"),
        ("---\nseverity: info\n---\n", "no title"),
        ("---\ntitle: x\nseverity: critical\n---\n", "severity must be one of"),
        ("---\ntitle: x\nends: next tuesday\n---\n", "not an ISO 8601 time"),
        ("---\ntitle: x\nsevrity: info\n---\n", "unknown field(s): sevrity"),
        ("---\ntitle: x\ntitle: y\n---\n", "given twice"),
        ("---\ntitle: x\njust words\n---\n", "expected 'key: value'"),
        ("---\ntitle: x\ndismissible: maybe\n---\n", "dismissible must be true or false"),
    ],
)
def test_a_bad_file_is_refused_saying_why(text: str, complaint: str) -> None:
    with pytest.raises(FrontMatterError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_announcement(text, "bad")


def test_an_announcement_shows_between_its_start_and_end() -> None:
    def window(starts: str, ends: str) -> bool:
        text = f"---\ntitle: x\nstarts: {starts}\nends: {ends}\n---\n"
        return parse_announcement(text, "x").shown_at(NOW)

    assert window("2026-10-20T11:00Z", "2026-10-20T13:00Z")
    assert not window("2026-10-19T11:00Z", "2026-10-20T11:59Z")  # ended
    assert not window("2026-10-20T12:01Z", "2026-10-20T13:00Z")  # not yet


def test_bad_files_in_the_directory_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nbody")
    (tmp_path / "bad.md").write_text("---\ntitle: Bad\nseverity: loud\n---\n")
    (tmp_path / "binary.md").write_bytes(b"---\ntitle: \xff\xfe\n---\n")
    (tmp_path / "notes.txt").write_text("not an announcement")

    with caplog.at_level(logging.WARNING):
        announcements = read_admin_announcements(tmp_path, logging.getLogger("test"))

    assert [item.id for item in announcements] == ["admin:good"]
    assert "bad.md" in caplog.text
    assert "binary.md" in caplog.text


def test_a_missing_directory_is_no_announcements(tmp_path: Path) -> None:
    assert read_admin_announcements(tmp_path / "nope", logging.getLogger("test")) == []


def test_maintenance_is_announced_within_the_horizon_until_it_ends() -> None:
    def reservation(starts_in: timedelta) -> Reservation:
        start = NOW + starts_in
        return Reservation(
            name="maint",
            start=start.isoformat().replace("+00:00", "Z"),
            end=(start + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            state="INACTIVE",
            nodes="n[1-4]",
            node_count=4,
            partition=None,
            flags=("MAINT",),
            users=("root",),
            groups=(),
            accounts=(),
        )

    horizon = timedelta(days=7)
    soon = maintenance_announcement(reservation(timedelta(days=2)))
    assert (soon.id, soon.source, soon.severity) == ("maint:maint", "maintenance", "warning")
    assert "n[1-4]" in soon.body
    assert soon.shown_at(NOW, horizon)
    assert not maintenance_announcement(reservation(timedelta(days=8))).shown_at(NOW, horizon)
    assert maintenance_announcement(reservation(timedelta(minutes=-30))).shown_at(NOW, horizon)
    assert not maintenance_announcement(reservation(timedelta(hours=-2))).shown_at(NOW, horizon)
