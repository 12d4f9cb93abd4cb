"""Checks a route's real response against the served OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jupyterlab_hpc.openapi import openapi_document

_URI = "urn:jupyterlab-hpc:openapi"


def assert_matches_openapi(path: str, method: str, status: int, body: bytes | None) -> None:
    """The status is documented for the route and the JSON body fits its schema."""
    document = openapi_document()
    responses = document["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} -> {status} is not in the OpenAPI document"
    content = responses[str(status)].get("content")
    if content is None:
        assert not body, f"{method} {path} -> {status} documents no body but got {body!r}"
        return
    pointer = "/".join(
        ["#/paths", path.replace("/", "~1"), method.lower(), "responses", str(status),
         "content", "application~1json", "schema"]
    )  # fmt: skip
    registry: Registry[Any] = Registry().with_resource(
        _URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": f"{_URI}{pointer}"}, registry=registry)
    validator.validate(json.loads(body or b"null"))
