"""What a kernel's job asks Slurm for, validated before anything is submitted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.notation import time_seconds, time_text
from jupyterlab_hpc.slurm.validation import slurm_name

# Slurm's feature expressions: names joined by & | , with [ ] ( ) and *count.
_CONSTRAINT = re.compile(r"^[A-Za-z0-9_.&|,:*\[\]()-]{1,256}$", re.ASCII)
# 2, or a GPU type and a count: a100:2
_GPUS = re.compile(r"^(?:[A-Za-z0-9_.-]{1,64}:)?\d{1,4}$", re.ASCII)

_NAMES = ("partition", "account", "qos", "reservation")
_COUNT_LIMITS = {"cpus": 100_000, "memory_mb": 100_000_000}
# Slurm counts time limits in minutes: less than one is no limit it can set.
MIN_TIME = 60
_MAX_TIME = 365 * 86400


@dataclass(frozen=True)
class JobResources:
    """One kernel job's request; None leaves the choice to Slurm's defaults. ``time`` is in
    seconds, as everywhere inside this project."""

    partition: str | None = None
    account: str | None = None
    time: int | None = None
    cpus: int | None = None
    memory_mb: int | None = None
    gpus: str | None = None
    qos: str | None = None
    constraint: str | None = None
    reservation: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> JobResources:
        """Resources from JSON-like values (REST requests, settings, kernelspecs, the CLI);
        InvalidRequest names the first bad one. ``time`` is seconds as a number, or a Slurm
        time as text (``"90"`` minutes, ``"1:30:00"``, ``"2-12"``), read as sbatch does."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            msg = f"Unknown resource(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise InvalidRequest(msg)
        checked: dict[str, Any] = {
            name: None if value is None or value == "" else _check(name, value)
            for name, value in values.items()
        }
        return cls(**checked)

    def merged(self, overrides: JobResources) -> JobResources:
        """These resources with every value that ``overrides`` sets replaced."""
        changes = {
            field.name: getattr(overrides, field.name)
            for field in fields(overrides)
            if getattr(overrides, field.name) is not None
        }
        return replace(self, **changes)

    def sbatch_options(self) -> list[str]:
        """sbatch options for one task on one node with these resources."""
        options = ["--nodes=1", "--ntasks=1"]
        for name in _NAMES:
            value = getattr(self, name)
            if value is not None:
                options.append(f"--{name}={value}")
        if self.time is not None:
            options.append(f"--time={time_text(self.time)}")
        if self.cpus is not None:
            options.append(f"--cpus-per-task={self.cpus}")
        if self.memory_mb is not None:
            options.append(f"--mem={self.memory_mb}M")
        if self.gpus is not None and self.gpus.rpartition(":")[2].strip("0"):
            options.append(f"--gres=gpu:{self.gpus}")
        if self.constraint is not None:
            options.append(f"--constraint={self.constraint}")
        return options

    def to_json(self) -> dict[str, str | int]:
        """The set values, as the REST API and kernelspecs carry them: time in seconds, a
        plain GPU count as a number."""
        values: dict[str, str | int] = {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)
        }
        if isinstance(self.gpus, str) and self.gpus.isdigit():
            values["gpus"] = int(self.gpus)
        return values


def _check(name: str, value: object) -> str | int:
    if name in _NAMES:
        return slurm_name(_text(name, value), name)
    if name in _COUNT_LIMITS:
        return _count(name, value, minimum=1, maximum=_COUNT_LIMITS[name])
    if name == "time":
        return _seconds(value)
    if name == "gpus" and isinstance(value, int):
        value = str(_count(name, value, minimum=0, maximum=9_999))
    text = _text(name, value)
    if name == "gpus":
        return _matching(_GPUS, text, "gpus request (a GPU count, or type:count)")
    return _matching(_CONSTRAINT, text, "constraint")


def _seconds(value: object) -> int:
    if isinstance(value, str):
        seconds = time_seconds(value) if value == value.strip() else None
        if seconds is None:
            msg = f"Not a valid time limit: {value!r} (seconds, or minutes, HH:MM:SS, D-HH:MM)"
            raise InvalidRequest(msg)
        value = seconds
    return _count("time", value, minimum=MIN_TIME, maximum=_MAX_TIME)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        msg = f"{name} must be text, not {value!r}"
        raise InvalidRequest(msg)
    return value


def _count(name: str, value: object, *, minimum: int, maximum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        msg = f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}"
        raise InvalidRequest(msg)
    return value


def _matching(pattern: re.Pattern[str], text: str, what: str) -> str:
    if not pattern.fullmatch(text):
        msg = f"Not a valid {what}: {text!r}"
        raise InvalidRequest(msg)
    return text
