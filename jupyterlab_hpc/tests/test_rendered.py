"""Rendered JSON bodies are shared while the cached data is the same object, and only then."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

import pytest

from jupyterlab_hpc.handlers.base import accepts_gzip
from jupyterlab_hpc.handlers.rendered import RenderedBodies, render


def test_a_view_is_rendered_once_per_source_object() -> None:
    bodies = RenderedBodies()
    source = ["job-1"]
    calls: list[int] = []

    def payload() -> dict[str, Any]:
        calls.append(1)
        return {"jobs": list(source), "updated": "2026-11-28T09:00:00Z"}

    first = bodies.get("mine", source, payload)
    again = bodies.get("mine", source, payload)
    refreshed = bodies.get("mine", ["job-1"], payload)  # equal data, but a new read from Slurm

    assert again is first
    assert len(calls) == 2
    assert refreshed.etag == first.etag
    assert json.loads(first.body)["jobs"] == ["job-1"]


def test_the_etag_ignores_when_the_data_was_read_but_not_what_it_says() -> None:
    earlier = render({"jobs": ["a"], "updated": "2026-11-28T09:00:00Z"})
    later = render({"jobs": ["a"], "updated": "2026-11-28T09:00:05Z"})
    changed = render({"jobs": ["a", "b"], "updated": "2026-11-28T09:00:05Z"})

    assert earlier.etag == later.etag
    assert changed.etag != later.etag


def test_the_body_is_the_whole_payload_as_json() -> None:
    payload = {"jobs": [{"id": "1", "name": 'ä "quoted"'}], "updated": "2026-11-28T09:00:00Z"}

    assert json.loads(render(payload).body) == payload
    assert json.loads(render({"updated": "now"}).body) == {"updated": "now"}
    assert json.loads(render({"jobs": []}).body) == {"jobs": []}


def test_old_views_are_forgotten_beyond_the_limit() -> None:
    bodies = RenderedBodies(max_views=2)
    source = object()
    for view in ("a", "b", "c"):
        bodies.get(view, source, lambda: {"view": 1})
    rendered_again = []

    def payload() -> dict[str, Any]:
        rendered_again.append("a")
        return {"view": 1}

    bodies.get("a", source, payload)

    assert rendered_again == ["a"]


def test_records_are_written_as_objects_in_their_field_order() -> None:
    @dataclass
    class Record:
        id: str
        cpus: int | None

    body = render({"jobs": [Record("7", None)], "updated": "2026-11-28T09:00:00Z"}).body

    assert body.startswith(b'{"jobs":[{"id":"7","cpus":null}]')
    assert json.loads(body)["updated"] == "2026-11-28T09:00:00Z"


@pytest.mark.parametrize(
    ("accept_encoding", "accepted"),
    [
        ("gzip, deflate, br, zstd", True),
        ("GZIP", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("identity", False),
        ("", False),
        ("x-gzip", False),
    ],
)
def test_gzip_is_used_where_the_client_admits_it(accept_encoding: str, *, accepted: bool) -> None:
    assert accepts_gzip(accept_encoding) is accepted


def test_the_gzipped_body_is_made_once_and_unpacks_to_the_body() -> None:
    rendered = render({"jobs": ["a job"] * 1000, "updated": "2026-11-28T09:00:00Z"})

    assert rendered.gzipped is rendered.gzipped
    assert gzip.decompress(rendered.gzipped) == rendered.body
