"""A remote kernel's resources as the REST API speaks them, checked before anything runs:
the request's JSON types, then ``JobResources`` (the one validator of names, patterns and
ranges, time in seconds), then the site's limits, then what Slurm would never run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.slurm.errors import InvalidRequest

# Numbers in the REST API, never Slurm-style text.
_COUNTS = ("time", "cpus", "memory_mb")


@dataclass(frozen=True)
class ResourceLimits:
    """The site's upper bounds (None: only Slurm's own limits apply)."""

    max_time: int | None = None  # seconds
    max_cpus: int | None = None
    max_memory_mb: int | None = None
    max_gpus: int | None = None


def parse_resources(values: object, limits: ResourceLimits) -> dict[str, Any]:
    """A request's resources, checked, in the REST shape (time in seconds); InvalidRequest
    names the first bad one. The REST API takes numbers as numbers, never Slurm text."""
    if isinstance(values, Mapping):
        for name in _COUNTS:
            value = values.get(name)
            if value not in (None, "") and (isinstance(value, bool) or not isinstance(value, int)):
                msg = f"{name} must be a whole number, not {value!r}"
                raise InvalidRequest(msg)
        gpus = values.get("gpus")
        if isinstance(gpus, str) and gpus and ":" not in gpus:
            msg = f"gpus must be a count or type:count, not {gpus!r}"
            raise InvalidRequest(msg)
    return checked_resources(values, limits)


def checked_resources(values: object, limits: ResourceLimits) -> dict[str, Any]:
    """Resources in any form JobResources reads (a setting's time may be Slurm text such as
    "1:00:00"), checked and within the site's limits, in the REST shape."""
    if not isinstance(values, Mapping):
        msg = "resources must be an object"
        raise InvalidRequest(msg)
    resources = JobResources.from_mapping(values)
    _at_most("time", resources.time, limits.max_time)
    _at_most("cpus", resources.cpus, limits.max_cpus)
    _at_most("memory_mb", resources.memory_mb, limits.max_memory_mb)
    if resources.gpus is not None:
        _at_most("gpus", int(resources.gpus.rpartition(":")[2]), limits.max_gpus)
    return resources.to_json()


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


def _at_most(name: str, value: int | None, maximum: int | None) -> None:
    if value is not None and maximum is not None and value > maximum:
        msg = f"{name} must be at most {maximum}, not {value}"
        raise InvalidRequest(msg)
