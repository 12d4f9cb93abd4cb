"""The site service's OpenAPI document (``openapi/site-service.json``) says what its routes
are: every route ``site_routes`` registers with exactly the methods its handler implements,
nothing else, the records it writes with exactly their fields, and bodies made as its handlers
make them (from Slurm output captured on the real cluster) fit its schemas."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from tornado import web

from jupyterlab_hpc.site.handlers import site_routes
from jupyterlab_hpc.site.wire import to_plain
from jupyterlab_hpc.slurm.commands.cluster_info import parse_cluster_info
from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.partitions import parse_partitions
from jupyterlab_hpc.slurm.commands.quotas import parse_all_quotas
from jupyterlab_hpc.slurm.commands.reservations import parse_reservations
from jupyterlab_hpc.slurm.commands.squeue import parse_jobs
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

DOCUMENT = Path(__file__).parents[1] / "openapi" / "site-service.json"
HTTP_METHODS = ("get", "head", "post", "delete", "patch", "put", "options")
CAPTURED = Path(__file__).parent / "captured"
# cluster/capture_outputs.py's fixed separator (test_squeue_parser.py).
CAPTURE_SEPARATOR = SEPARATOR + "captured" * 2
_URI = "urn:jupyterlab-hpc:site-service"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(DOCUMENT.read_text()))


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


def test_only_session_identity_and_health_do_without_a_session(document: dict[str, Any]) -> None:
    assert document["security"] == [{"session": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "http", "scheme": "bearer"}
    own_security = {
        path: operation["security"]
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if "security" in operation
    }
    assert own_security == {
        "/api/health": [],
        "/api/identity": [],
        "/api/session": [{"munge": []}, {"hubToken": []}],
    }


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


def _captured(release: Path, name: str) -> str:
    return (release / name).read_text()


def _access(quotas: list[AccountQuota]) -> UserAccess:
    """A user's access as SiteData.access makes it from their associations."""
    return UserAccess(
        user="alice",
        default_account=next((quota.account for quota in quotas if quota.default), None),
        accounts=tuple(quota.account for quota in quotas),
        groups=("alice", "users"),
    )


def _bodies(release: Path) -> dict[str, Any]:
    """Per route, a body as the handler writes it: ``{"items": ..., "updated": ...}`` or
    ``{"item": ...}`` of wire.to_plain(records), through orjson (tuples become arrays)."""
    updated = "2026-12-02T14:00:00Z"
    partitions = parse_partitions(
        _captured(release, "scontrol_partitions_hidden.txt"),
        _captured(release, "sinfo_nodes_hidden.txt"),
    )
    every_quota = parse_all_quotas(_captured(release, "assoc_mgr.txt")).values()
    quotas = [quota for quotas in every_quota for quota in quotas]
    reservations = parse_reservations(_captured(release, "reservations.txt"))
    cluster = parse_cluster_info(_captured(release, "scontrol_config.txt"))
    assert partitions
    assert quotas
    assert cluster is not None
    bodies: dict[str, Any] = {
        "/api/partitions": {"items": to_plain(partitions), "updated": updated},
        "/api/quotas": {"items": to_plain(quotas), "updated": updated},
        "/api/reservations": {"items": to_plain(reservations), "updated": updated},
        "/api/cluster": {"item": to_plain(cluster)},
        "/api/access": {"item": to_plain(_access(quotas))},
    }
    listing = release / "squeue_listing.txt"
    if listing.exists():  # not captured on every release
        jobs = parse_jobs(listing.read_text().split("\n"), CAPTURE_SEPARATOR)
        assert jobs
        bodies["/api/jobs"] = {"items": to_plain(jobs), "updated": updated}
    return {path: orjson.loads(orjson.dumps(body)) for path, body in bodies.items()}


@pytest.mark.parametrize("release", sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def test_bodies_from_captured_slurm_output_fit_the_document(
    document: dict[str, Any], release: Path
) -> None:
    registry: Registry[Any] = Registry().with_resource(
        _URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    for path, body in _bodies(release).items():
        pointer = (
            f"#/paths/{path.replace('/', '~1')}/get/responses/200/content/application~1json/schema"
        )
        validator = Draft202012Validator({"$ref": f"{_URI}{pointer}"}, registry=registry)
        validator.validate(body)
