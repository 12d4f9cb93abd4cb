"""Slurm records to JSON and back, for the site service's answers to per-user servers.

Records are plain dataclasses of str, int, float, bool, None, tuples, lists and other records,
so their type hints say how to rebuild them; nothing but those types is ever made from a body.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union

from jupyterlab_hpc.slurm.records import Job

T = TypeVar("T")


def to_plain(record: Any) -> Any:
    """A record (or list of them) as JSON-ready values."""
    if isinstance(record, list):
        return [to_plain(item) for item in record]
    if isinstance(record, Job):
        return record.to_json()  # a shallow copy, ten times cheaper than asdict()
    return dataclasses.asdict(record)


def from_plain(kind: type[T], value: Any) -> T:
    """``value`` (decoded JSON) rebuilt as a ``kind`` record; ValueError if it does not fit."""
    return typing.cast("T", _build(kind, value))


def _build(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _build(option, value)
            except ValueError:
                continue
        msg = f"{value!r} is none of {kind}"
        raise ValueError(msg)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            msg = f"expected a list, got {type(value).__name__}"
            raise ValueError(msg)
        item = typing.get_args(kind)[0]
        items = [_build(item, element) for element in value]
        return tuple(items) if origin is tuple else items
    if origin in (dict, frozenset):
        msg = f"{kind} is not sent by the site service"
        raise ValueError(msg)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            msg = f"expected an object for {kind.__name__}"
            raise ValueError(msg)
        hints = _hints(kind)
        return kind(**{name: _build(hint, value.get(name)) for name, hint in hints.items()})
    if kind is type(None):
        if value is not None:
            msg = f"expected null, got {type(value).__name__}"
            raise ValueError(msg)
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"expected {kind.__name__}, got {type(value).__name__}"
        raise ValueError(msg)
    return value


@functools.cache
def _hints(kind: Any) -> dict[str, Any]:
    """The init fields of a record class and their types (resolved once per class)."""
    hints = typing.get_type_hints(kind)
    return {field.name: hints[field.name] for field in dataclasses.fields(kind) if field.init}
