"""Parsers for the field formats Slurm's text output uses (times, durations, sizes, TRES)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from functools import lru_cache

# Between fields of delimited output whose text no user chooses (ids, states, times, numbers,
# the names of partitions, nodes and accounts, which admins give): a character Slurm copies as
# is. Around text users choose, a separator made for the query (query_separator).
SEPARATOR = "\x1f"
# What a query's record end starts with (record_end): the record separator.
RECORD_END = "\x1e"


def query_separator() -> str:
    """A separator for one query whose output holds text users choose (job names, comments,
    work dirs, output paths): Slurm stores and prints those raw, newlines and all, so only a
    separator no user can predict marks where a value ends. Fresh for every query: ``ps`` shows
    every user the command lines, separators included."""
    return SEPARATOR + secrets.token_hex(8)


def record_end(separator: str) -> str:
    """What ends each record of a query with ``separator``: as unpredictable, yet different."""
    return RECORD_END + separator[len(SEPARATOR) :]


class EndedRecords:
    """Records of output in which each record's last value is followed by ``end`` and a line
    break (squeue ``--Format`` with ``end`` as the last field's suffix).

    Fed the output's lines in order, it hands back each record as soon as it is whole: the
    first line ending with ``end``. A value may hold line breaks, so a record may take several
    lines; none can end one early, as no value holds ``end``.
    """

    def __init__(self, end: str) -> None:
        self.end = end
        self._fragments: list[str] = []

    def feed(self, lines: Iterable[str]) -> Iterator[str]:
        """The records the ``lines`` complete, each with its ``end``."""
        end, fragments = self.end, self._fragments
        for line in lines:
            if not line.endswith(end):
                fragments.append(line)
            elif fragments:
                fragments.append(line)
                yield "\n".join(fragments)
                fragments.clear()
            else:
                yield line  # the usual case: a record on one line


def delimited_records(output: str, separator: str, width: int) -> list[list[str]]:
    """The values of output in which ``separator`` goes between values and a line break after
    each record (sacct/sacctmgr ``--parsable2 --delimiter``), ``width`` values a record.

    Values may hold line breaks, so the output is split on the separator alone: each record's
    last value then runs into the next record's first one. Both must be fields no user can
    put a line break into (a job id, a number): the first line break is the one between them.
    """
    pieces = output.split(separator)
    records: list[list[str]] = []
    record = [pieces[0]]
    for piece in pieces[1:]:
        if len(record) < width - 1:
            record.append(piece)
            continue
        last, _, first = piece.partition("\n")
        records.append([*record, last])
        record = [first]
    return records


# Words Slurm prints where a value is absent.
_ABSENT = {"", "N/A", "n/a", "(null)", "None", "NONE", "Unknown", "UNLIMITED", "INVALID", "NOT_SET"}

_DURATION = re.compile(r"^(?:(?P<days>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+)$")
_MEMORY = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>[KMGTP]?)$")
_MEMORY_FACTORS_MB = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024**2, "P": 1024**3}


# Listings repeat the same values thousands of times (jobs submitted together, one account, the
# partition's default limit): converting each distinct value once keeps a 10,000-job parse cheap.
@lru_cache(maxsize=16384)
def text_or_none(value: str) -> str | None:
    text = value.strip()
    return None if text in _ABSENT else text


def given_text_or_none(value: str) -> str | None:
    """Text a user gave (a work dir, an output path) exactly as given, None if absent: not
    stripped, as Python's strip also takes separators and line breaks off a path's ends."""
    return None if value in _ABSENT else value


@lru_cache(maxsize=4096)
def int_or_none(value: str) -> int | None:
    text = text_or_none(value)
    return int(text) if text is not None and text.isdigit() else None


@lru_cache(maxsize=16384)
def utc_time(value: str) -> str | None:
    """Slurm's local ``2026-11-22T03:15:00`` as ISO 8601 UTC, or None for N/A/Unknown."""
    text = text_or_none(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # Slurm prints the login node's local time
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=4096)
def duration_seconds(value: str) -> int | None:
    """``[days-][hours:]minutes:seconds`` (or a bare minute count) in seconds; UNLIMITED is None."""
    text = text_or_none(value)
    if text is None:
        return None
    if text.isdigit():
        return int(text) * 60  # a bare number is minutes, as sbatch --time reads it
    match = _DURATION.match(text)
    if match is None:
        return None
    days, hours = int(match["days"] or 0), int(match["h"] or 0)
    return ((days * 24 + hours) * 60 + int(match["m"])) * 60 + int(match["s"])


def memory_mb(value: str) -> int | None:
    """``500M``, ``2G``, ``1000`` (MB) as whole megabytes."""
    text = text_or_none(value)
    if text is None:
        return None
    match = _MEMORY.match(text)
    if match is None:
        return None
    return round(float(match["value"]) * _MEMORY_FACTORS_MB[match["unit"]])


def gpu_count(tres: str) -> int | None:
    """GPUs in a TRES or GRES list (``cpu=2,gres/gpu=2``, ``gres:gpu:2``); 0 if none."""
    text = text_or_none(tres)
    if text is None:
        return 0
    total = 0
    for item in re.split(r"[,\s]+", text):
        match = re.match(r"^(?:gres[/:])?gpu(?::[\w.-]+)?[:=](\d+)", item)
        if match:
            total += int(match[1])
    return total


def tres_items(tres: str) -> dict[str, str]:
    """``cpu=2,mem=1000M,gres/gpu=1`` as a mapping; empty for N/A."""
    text = text_or_none(tres)
    if text is None:
        return {}
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)
