"""JSON bodies and their ETags, computed once per Slurm read and shared by every request for it.

With 10,000 jobs, turning a listing into JSON costs far more than serving it: a hundred tabs
polling the same view must not each pay for it.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson


@dataclass(frozen=True)
class RenderedBody:
    body: bytes
    etag: str

    @cached_property
    def gzipped(self) -> bytes:
        """The body compressed, made on first use and kept with it like the body: 10,000 jobs
        are about 5 MB of JSON and a small fraction of that gzipped, which a browser far from
        the server notices at every change of the listing."""
        return gzip.compress(self.body, compresslevel=1, mtime=0)


def render(payload: dict[str, Any]) -> RenderedBody:
    """The JSON body and its ETag. The tag leaves out the value of ``updated``, so data read
    again from Slurm that did not change keeps its tag and an unchanged poll costs a 304.

    orjson rather than the json module: it writes the dataclass records (10,000 jobs) directly,
    several times faster than json.dumps writes the same data as dicts."""
    if "updated" not in payload:
        body = orjson.dumps(payload)
        return RenderedBody(body, _etag(body))
    # ``updated`` last: the tag is the hash of everything before its value.
    rest = {key: value for key, value in payload.items() if key != "updated"}
    body = orjson.dumps({**rest, "updated": payload["updated"]})
    value_and_brace = len(orjson.dumps(payload["updated"])) + 1
    return RenderedBody(body, _etag(memoryview(body)[:-value_and_brace]))


def _etag(data: bytes | memoryview) -> str:
    # SHA-256 rather than BLAKE2: CPUs' SHA extensions hash 5 MB of jobs three times as fast.
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


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
