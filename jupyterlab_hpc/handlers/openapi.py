"""``/hpc/openapi.json``: the REST contract, for clients and API tools."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyterlab_hpc.handlers.base import HPCHandler
from jupyterlab_hpc.openapi import openapi_document


class OpenAPIHandler(HPCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(openapi_document())
