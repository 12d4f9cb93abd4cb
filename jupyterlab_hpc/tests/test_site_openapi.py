"""The site service's OpenAPI document (``openapi/site-service.yaml``) says what its routes
are: every route ``site_routes`` registers with exactly the methods its handler implements,
nothing else, and the records it writes with exactly their fields."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from tornado import web

from jupyterlab_hpc.site.handlers import site_routes
from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    Capacity,
    ClusterInfo,
    Job,
    Limit,
    NodeCounts,
    Partition,
    Reservation,
    UserAccess,
)

DOCUMENT = Path(__file__).parents[1] / "openapi" / "site-service.yaml"
HTTP_METHODS = ("get", "head", "post", "delete", "patch", "put", "options")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(yaml.safe_load(DOCUMENT.read_text()))


def implemented_methods(handler: type[web.RequestHandler]) -> set[str]:
    """The HTTP methods a handler class answers itself (not tornado's 405)."""
    return {
        method
        for method in HTTP_METHODS
        if getattr(handler, method) is not getattr(web.RequestHandler, method)
    }


def test_is_openapi_3(document: dict[str, Any]) -> None:
    assert str(document["openapi"]).startswith("3.")
    assert document["info"]["title"]


def test_every_route_with_its_methods_and_nothing_else(document: dict[str, Any]) -> None:
    routes = {path: implemented_methods(handler) for path, handler, _ in site_routes({})}
    documented = {
        path: {method for method in operations if method in HTTP_METHODS}
        for path, operations in document["paths"].items()
    }
    assert documented == routes


def test_every_operation_documents_its_success(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "200" in operation["responses"], f"{method.upper()} {path}"


def test_only_health_and_session_do_without_a_session(document: dict[str, Any]) -> None:
    assert document["security"] == [{"session": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "http", "scheme": "bearer"}
    own_security = {
        path: operation["security"]
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if "security" in operation
    }
    assert own_security == {"/api/health": [], "/api/session": [{"munge": []}, {"hubToken": []}]}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_references_resolve_inside_the_document(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]


def test_schemas_are_json_schemas(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)  # raises on an invalid one
        assert name


@pytest.mark.parametrize(
    ("record", "schema"),
    [
        (Job, "Job"),
        (Partition, "Partition"),
        (NodeCounts, "NodeCounts"),
        (Capacity, "Capacity"),
        (AccountQuota, "AccountQuota"),
        (Limit, "QuotaLimit"),
        (Reservation, "Reservation"),
        (UserAccess, "UserAccess"),
        (ClusterInfo, "ClusterInfo"),
    ],
)
def test_records_have_exactly_the_documented_fields(
    document: dict[str, Any], record: type[Any], schema: str
) -> None:
    """wire.to_plain writes every field of a record: the document lists each, requires each."""
    described = document["components"]["schemas"][schema]
    fields = {field.name for field in dataclasses.fields(record)}
    assert set(described["properties"]) == fields
    assert set(described["required"]) == fields
    assert described["additionalProperties"] is False
