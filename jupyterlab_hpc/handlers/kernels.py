"""``/hpc/kernels``: kernels in Slurm jobs, started in the background (progress as events)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyterlab_hpc.handlers.base import HPCHandler
from jupyterlab_hpc.services.kernels import RemoteKernels


class KernelOptionsHandler(HPCHandler):
    def initialize(self, kernels: RemoteKernels) -> None:
        self.kernels = kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with self.slurm_errors():
            options = await self.kernels.options()
        self.finish(options)


class KernelsHandler(HPCHandler):
    def initialize(self, kernels: RemoteKernels) -> None:
        self.kernels = kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish({"kernels": [kernel.to_json() for kernel in self.kernels.list_kernels()]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.get_json_body()
        if not isinstance(body, dict):
            raise web.HTTPError(400, 'Expected a JSON body {"kernel_name", "resources", "path"}')
        with self.slurm_errors():
            kernel = await self.kernels.start(
                body.get("kernel_name"), body.get("resources", {}), body.get("path")
            )
        self.set_status(202)
        self.finish({"id": kernel.id, "state": kernel.state})


class KernelHandler(HPCHandler):
    def initialize(self, kernels: RemoteKernels) -> None:
        self.kernels = kernels

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        with self.slurm_errors():
            kernel = self.kernels.get(kernel_id)
        self.finish(kernel.to_json())

    @web.authenticated
    @authorized
    async def delete(self, kernel_id: str) -> None:
        with self.slurm_errors():
            await self.kernels.stop(kernel_id)
        self.set_status(204)
        self.finish()
