"""POST /api/session when the hub does not answer the site service: a 502 with the reason,
which a per-user server takes for the service being unusable (it then proves its user with
MUNGE), never for an outage of Slurm's."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from tornado import web

from jupyterlab_hpc.handlers.outage import OutageLog
from jupyterlab_hpc.handlers.rendered import RenderedBodies
from jupyterlab_hpc.site.client import SiteClient, SiteUnusable
from jupyterlab_hpc.site.handlers import site_routes
from jupyterlab_hpc.site.sessions import Sessions
from jupyterlab_hpc.tests.server_process import free_port


class SilentHub:
    """What HubAuth raises when it cannot reach the hub's API."""

    async def user_of(self, token: str) -> str | None:  # noqa: ARG002
        raise web.HTTPError(500, "Failed to connect to Hub API")


@asynccontextmanager
async def service_without_its_hub() -> AsyncIterator[str]:
    log = logging.getLogger("test-site")
    settings: dict[str, Any] = {
        "data": None,  # no route that reads Slurm is called here
        "sessions": Sessions(lifetime=60),
        "hub": SilentHub(),
        "rendered": RenderedBodies(max_views=10),
        "outages": OutageLog(log),
        "log": log,
        "command_prefix": [],
    }
    port = free_port()
    server = web.Application(site_routes(settings)).listen(port, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def test_a_hub_that_does_not_answer_is_a_502_that_says_so() -> None:
    async with service_without_its_hub() as service_url, httpx.AsyncClient() as client:
        answer = await client.post(
            f"{service_url}/api/session", headers={"Authorization": "token some-hub-token"}
        )
    assert answer.status_code == 502
    assert answer.json()["message"].endswith(
        "did not answer: HTTP 500: Internal Server Error (Failed to connect to Hub API)"
    )


async def test_a_server_takes_it_for_the_service_being_unusable() -> None:
    async with service_without_its_hub() as service_url:
        client = SiteClient(service_url)
        try:
            with pytest.raises(SiteUnusable, match="answered 502: The hub did not answer"):
                await client._open_session("token", "some-hub-token")
        finally:
            await client.close()
