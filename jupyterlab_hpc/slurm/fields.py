"""Parsers for the field formats Slurm's text output uses (times, durations, sizes, TRES)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

# Between the fields of delimited output (squeue/sinfo --Format suffixes, sacct --delimiter):
# a character no job, partition or node name, path or account contains in practice, and that
# Slurm copies as is.
SEPARATOR = "\x1f"

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
