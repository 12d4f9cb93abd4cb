"""How Slurm writes values, read the same way by every backend: absent values, times,
durations, memory sizes, TRES lists, node states, output-path patterns and array job ids."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

from jupyterlab_hpc.slurm.records import JobDetail

# Words Slurm prints where a value is absent.
_ABSENT = {"", "N/A", "n/a", "(null)", "None", "NONE", "Unknown", "UNLIMITED", "INVALID", "NOT_SET"}

# minutes[:seconds] | hours:minutes:seconds | days-hours[:minutes[:seconds]]
_TIME = re.compile(r"^(?:\d{1,7}(?::\d{1,2}){0,2}|\d{1,4}-\d{1,2}(?::\d{1,2}){0,2})$", re.ASCII)
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
def time_seconds(value: str) -> int | None:
    """A Slurm time in seconds, in every form sbatch's --time takes and Slurm prints:
    ``minutes``, ``minutes:seconds``, ``hours:minutes:seconds``, ``days-hours``,
    ``days-hours:minutes``, ``days-hours:minutes:seconds``; None for UNLIMITED or no time."""
    text = text_or_none(value)
    if text is None or not _TIME.match(text):
        return None
    days_text, dash, rest = text.rpartition("-")
    numbers = [int(part) for part in rest.split(":")]
    if dash:  # days-hours[:minutes[:seconds]]
        hours, minutes, seconds = [*numbers, 0, 0][:3]
    elif len(numbers) == 3:
        hours, minutes, seconds = numbers
    else:  # minutes[:seconds]
        hours, (minutes, seconds) = 0, [*numbers, 0][:2]
    return ((int(days_text or 0) * 24 + hours) * 60 + minutes) * 60 + seconds


def time_text(seconds: int) -> str:
    """``seconds`` as Slurm's ``days-hours:minutes:seconds`` (Slurm rounds up to minutes)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"


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


# The suffixes of sinfo's short states ("down*", "idle~", "idle$"): not responding, powered
# down, powering up/down, maintenance reservation, reboot, planned.
_STATE_SYMBOLS = "*~#!%$@^-"


def node_state(state: str) -> str:
    """The bucket of NodeCounts a node's sinfo state puts it in (``idle+drain`` -> drained).

    Reads both StateComplete (``down+not_responding``) and the short forms (``down*``,
    ``drained``, ``idle$``); whatever makes a node unusable wins over how busy it is.
    """
    text = state.strip().lower()
    words = {word.rstrip(_STATE_SYMBOLS) for word in text.split("+")}
    symbols = set(text) & set(_STATE_SYMBOLS)
    if words & {"maint", "maintenance"} or "$" in symbols:
        return "maintenance"
    down = {"down", "not_responding", "future", "unknown", "error", "inval", "invalid_reg"}
    if words & down or "*" in symbols:
        return "down"
    if words & {"drain", "drained", "draining", "fail", "failing"}:
        return "drained"
    if words & {"allocated", "alloc"}:
        return "allocated"
    if "mixed" in words:
        return "mixed"
    return "idle" if "idle" in words else "down"


# Output file patterns as sbatch takes them; slurmd expands them.
_PATTERN = re.compile(r"%(\d*)([%AaJjNnstux])")
_NO_ARRAY_TASK = "4294967294"  # what slurmd writes for %a outside an array (NO_VAL)


def find_job(details: list[JobDetail], job_id: str) -> JobDetail | None:
    """The record of ``job_id`` among what Slurm answered when asked for it. An array task's id
    must match exactly: a task that does not exist must not stand for its array (an action on
    it would act on every task). A plain job id stands for the first record Slurm gave for it
    when none is listed under it: an array's tasks, or the task whose own job id it is."""
    exact = next((detail for detail in details if detail.job.id == job_id), None)
    if exact is None and "_" not in job_id and details:
        return details[0]
    return exact


def expand_output_path(
    path: str,
    *,
    job_id: str,
    array_job_id: str | None,
    array_task_id: str | None,
    user: str,
    name: str,
    batch_host: str | None,
) -> str:
    """A batch job's ``--output``/``--error`` pattern as the file slurmd writes.

    ``%N`` stays when the job has no node yet. A backslash turns expansion off, as in slurmd.
    """
    if "\\" in path:
        return path.replace("\\", "")
    values = {
        "%": "%",
        "A": array_job_id or job_id,
        "a": array_task_id or _NO_ARRAY_TASK,
        "J": f"{job_id}.batch",
        "j": job_id,
        "N": batch_host,
        "n": "0",
        "s": "batch",
        "t": "0",
        "u": user,
        "x": name,
    }

    def replace(match: re.Match[str]) -> str:
        value = values[match[2]]
        if value is None:
            return match[0]
        return value.zfill(int(match[1])) if match[1] and value.isdigit() else value

    return _PATTERN.sub(replace, path)
