"""JSON bodies and their ETags, computed once per Slurm read and shared by every request for it.

With 10,000 jobs, turning a listing into JSON costs far more than serving it: a hundred tabs
polling the same view must not each pay for it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RenderedBody:
    body: bytes
    etag: str


def render(payload: dict[str, Any]) -> RenderedBody:
    """The JSON body and its ETag; the tag leaves out ``updated``, so data read again from
    Slurm that did not change keeps its tag and an unchanged poll costs a 304."""
    data = {key: value for key, value in payload.items() if key != "updated"}
    data_json = json.dumps(data)  # the builders give their keys in a fixed order
    digest = hashlib.blake2b(data_json.encode(), digest_size=16)
    # Serialized once: with 10,000 jobs a second json.dumps would double the cost.
    body = data_json if "updated" not in payload else _with_updated(data_json, payload["updated"])
    return RenderedBody(body.encode(), f'"{digest.hexdigest()}"')


def _with_updated(data_json: str, updated: object) -> str:
    """``data_json`` (an object) with the ``updated`` member added at the end."""
    separator = "" if data_json == "{}" else ", "
    return f'{data_json[:-1]}{separator}"updated": {json.dumps(updated)}}}'


class RenderedBodies:
    """The rendered body of each recently served view, kept while its source is unchanged."""

    def __init__(self, max_views: int = 128) -> None:
        self.max_views = max_views
        self._views: OrderedDict[Hashable, tuple[object, RenderedBody]] = OrderedDict()

    def get(
        self, view: Hashable, source: object, payload: Callable[[], dict[str, Any]]
    ) -> RenderedBody:
        """The body for ``view`` rendered from ``source``, the very object the cache holds."""
        known = self._views.get(view)
        if known is not None and known[0] is source:
            self._views.move_to_end(view)
            return known[1]
        rendered = render(payload())
        self._views[view] = (source, rendered)
        if len(self._views) > self.max_views:
            self._views.popitem(last=False)
        return rendered
