"""A remote kernel's resources as the REST API speaks them, checked before anything runs.

The API counts time in seconds (the OpenAPI document); Slurm wants a time string, so the
checked request becomes a ``JobResources`` (which validates names and patterns once more)
for the provisioner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.slurm.errors import InvalidRequest

_NAMES = ("partition", "account", "qos", "constraint", "reservation")
_COUNTS = ("time", "cpus", "memory_mb")
FIELDS = (*_NAMES, *_COUNTS, "gpus")
_MINUTE = 60


@dataclass(frozen=True)
class ResourceLimits:
    """The site's upper bounds (None: only Slurm's own limits apply)."""

    max_time: int | None = None  # seconds
    max_cpus: int | None = None
    max_memory_mb: int | None = None
    max_gpus: int | None = None


def parse_resources(values: object, limits: ResourceLimits) -> dict[str, Any]:
    """The request's resources, each checked for type and range; InvalidRequest names the
    first bad one. Names are checked by ``to_job_resources``."""
    if not isinstance(values, Mapping):
        msg = "resources must be an object"
        raise InvalidRequest(msg)
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        msg = f"Unknown resource(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}"
        raise InvalidRequest(msg)
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if name == "time":
            checked[name] = _whole(name, value, _MINUTE, limits.max_time)
        elif name == "cpus":
            checked[name] = _whole(name, value, 1, limits.max_cpus)
        elif name == "memory_mb":
            checked[name] = _whole(name, value, 1, limits.max_memory_mb)
        elif name == "gpus":
            checked[name] = _gpus(value, limits.max_gpus)
        else:
            checked[name] = _text(name, value)
    to_job_resources(checked)  # names and patterns
    return checked


def to_job_resources(resources: Mapping[str, Any]) -> JobResources:
    """What the provisioner submits: the time as Slurm's D-HH:MM:SS."""
    values = dict(resources)
    if values.get("time") is not None:
        values["time"] = slurm_time(int(values["time"]))
    return JobResources.from_mapping(values)


def slurm_time(seconds: int) -> str:
    """``seconds`` as Slurm's days-hours:minutes:seconds (Slurm rounds up to minutes)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"


def check_against_slurm(
    resources: Mapping[str, Any],
    partitions: list[dict[str, Any]],
    accounts: tuple[str, ...],
) -> None:
    """Refuse what Slurm would accept but never run: a partition the user may not use, an
    account not theirs, a time beyond the partition's limit (the job would wait forever).

    ``partitions`` are those the user may use, in the OpenAPI document's shape."""
    name = resources.get("partition")
    partition = next(
        (p for p in partitions if (p["name"] == name if name else p["default"])),
        None,
    )
    if name and partition is None:
        usable = ", ".join(p["name"] for p in partitions) or "none"
        msg = f"Partition {name!r} is not one you may use (yours: {usable})"
        raise InvalidRequest(msg)
    account = resources.get("account")
    if account and account not in accounts:
        msg = f"Account {account!r} is not one of yours ({', '.join(accounts) or 'none'})"
        raise InvalidRequest(msg)
    time = resources.get("time")
    if partition is None or time is None or partition["max_time"] is None:
        return
    if time > partition["max_time"]:
        msg = (
            f"time {time} s is beyond partition {partition['name']}'s limit of "
            f"{partition['max_time']} s"
        )
        raise InvalidRequest(msg)


def _whole(name: str, value: object, minimum: int, maximum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be a whole number, not {value!r}"
        raise InvalidRequest(msg)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" to {maximum}" if maximum is not None else " or more"
        msg = f"{name} must be from {minimum}{upper}, not {value}"
        raise InvalidRequest(msg)
    return value


def _gpus(value: object, maximum: int | None) -> int | str:
    """A count, or a GPU type and count ("a100:2")."""
    if isinstance(value, str):
        kind, _, count = value.rpartition(":")
        if kind and count.isascii() and count.isdigit():  # isdigit() alone takes "²"
            _whole("gpus", int(count), 0, maximum)
            return value
        msg = f"gpus must be a count or type:count, not {value!r}"
        raise InvalidRequest(msg)
    return _whole("gpus", value, 0, maximum)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        msg = f"{name} must be text, not {value!r}"
        raise InvalidRequest(msg)
    return value
