"""Announcements: the admins' Markdown files and Slurm's upcoming maintenance reservations.

Admin files (``*.md`` in ``announcements_dir``) carry front matter: ``title`` (required),
``severity`` (info, warning or error; default info), ``starts`` and ``ends`` (ISO 8601; without
a zone the server's local time; the window in which the announcement is shown; both optional),
``dismissible`` (true or false; default true). A file that cannot be used is logged and
skipped. Maintenance reservations (MAINT flag) are announced from ``horizon`` seconds before
they start until they end.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jupyterlab_hpc.services.cache import SlurmCache
from jupyterlab_hpc.services.front_matter import FrontMatterError, split_front_matter
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.errors import SlurmError
from jupyterlab_hpc.slurm.records import Reservation

SEVERITIES = ("info", "warning", "error")
_FIELDS = frozenset({"title", "severity", "starts", "ends", "dismissible"})
_BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}


@dataclass(frozen=True)
class Announcement:
    """One announcement as the OpenAPI document shows it; ``body`` is Markdown, ``id`` stays
    the same."""

    id: str
    title: str
    body: str
    severity: str
    starts: str | None
    ends: str | None
    dismissible: bool
    source: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def shown_at(self, now: datetime, horizon: timedelta = timedelta(0)) -> bool:
        """Whether it is shown at ``now``: not ended, and starting within ``horizon``."""
        if self.ends is not None and _moment(self.ends) <= now:
            return False
        return self.starts is None or _moment(self.starts) <= now + horizon


class AnnouncementsService:
    def __init__(
        self,
        backend: SlurmBackend,
        cache: SlurmCache,
        *,
        directory: Path | None,
        horizon: timedelta,
        ttl: float,
        log: logging.Logger,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.directory = directory
        self.horizon = horizon
        self.ttl = ttl
        self.log = log

    async def list_announcements(self) -> list[Announcement]:
        """What to show now: errors first, then by start. Slurm being down hides only the
        maintenance ones: the admins' announcements may be about that very outage."""
        now = datetime.now(timezone.utc)
        admin = await self.cache.get("announcements", self._read_directory, ttl=self.ttl)
        try:
            reservations = await self.cache.get(
                "reservations", self.backend.list_reservations, ttl=self.ttl
            )
        except SlurmError as error:
            self.log.warning("jupyterlab_hpc: no maintenance announcements: %s", error)
            maintenance = []
        else:
            maintenance = [
                maintenance_announcement(reservation)
                for reservation in reservations.value
                if reservation.is_maintenance
            ]
        shown = [item for item in admin.value if item.shown_at(now)]
        shown += [item for item in maintenance if item.shown_at(now, self.horizon)]
        return sorted(shown, key=lambda item: (-SEVERITIES.index(item.severity), item.starts or ""))

    async def _read_directory(self) -> list[Announcement]:
        if self.directory is None:
            return []
        return await asyncio.to_thread(read_admin_announcements, self.directory, self.log)


def read_admin_announcements(directory: Path, log: logging.Logger) -> list[Announcement]:
    """Every usable ``*.md`` file in ``directory``; the others are logged and skipped."""
    try:
        paths = sorted(directory.glob("*.md"))
    except OSError as error:
        log.warning("jupyterlab_hpc: cannot list announcements in %s: %s", directory, error)
        return []
    announcements = []
    for path in paths:
        try:
            announcements.append(parse_announcement(path.read_text(), path.stem))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            log.warning("jupyterlab_hpc: skipping announcement %s: %s", path, error)
    return announcements


def parse_announcement(text: str, stem: str) -> Announcement:
    """An admin announcement from a file's text; ValueError says what is wrong with it."""
    fields, body = split_front_matter(text)
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        msg = f"unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))})"
        raise FrontMatterError(msg)
    title = fields.get("title", "")
    if not title:
        msg = "no title"
        raise FrontMatterError(msg)
    severity = fields.get("severity", "info").lower()
    if severity not in SEVERITIES:
        msg = f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}"
        raise FrontMatterError(msg)
    dismissible = _BOOLEANS.get(fields.get("dismissible", "true").lower())
    if dismissible is None:
        msg = f"dismissible must be true or false, not {fields['dismissible']!r}"
        raise FrontMatterError(msg)
    return Announcement(
        id=f"admin:{stem}",
        title=title,
        body=body,
        severity=severity,
        starts=_iso_utc(fields.get("starts"), "starts"),
        ends=_iso_utc(fields.get("ends"), "ends"),
        dismissible=dismissible,
        source="admin",
    )


def maintenance_announcement(reservation: Reservation) -> Announcement:
    """A warning about a maintenance reservation, in words a user acts on."""
    nodes = reservation.nodes or "all nodes"
    body = (
        f"Slurm reserves **{nodes}** for maintenance from {reservation.start or 'now'} until"
        f" {reservation.end or 'further notice'} (UTC). Jobs whose time limit would reach into"
        " this window wait until it is over; shorten `--time` to run before it."
    )
    return Announcement(
        id=f"maint:{reservation.name}",
        title=f"Maintenance of {nodes}",
        body=body,
        severity="warning",
        starts=reservation.start,
        ends=reservation.end,
        dismissible=True,
        source="maintenance",
    )


def _iso_utc(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{field} is not an ISO 8601 time: {value!r}"
        raise FrontMatterError(msg) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the server's local time, as an admin would write it
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
