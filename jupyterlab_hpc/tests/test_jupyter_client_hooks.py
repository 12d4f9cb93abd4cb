"""The jupyter_client details remote kernels rely on (services/jupyter_client_hooks.py), checked
against the installed jupyter_client: if a release changes one of them, this fails first."""

from __future__ import annotations

import asyncio
import inspect
import types
from typing import Any

import pytest
from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from jupyterlab_hpc.services.jupyter_client_hooks import (
    forget_failed_start,
    preset_kernel_info,
    preset_provisioner,
    watch_new_kernel_managers,
)


class RefusingProvisioner(LocalProvisioner):
    """A provisioner whose every launch fails, as a remote start refused by Slurm does."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:  # noqa: ARG002
        msg = "refused"
        raise RuntimeError(msg)


class QueuedProvisioner(LocalProvisioner):
    """A provisioner whose launch waits for ever, as a kernel's job in a long queue does."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:  # noqa: ARG002
        await asyncio.Event().wait()


def preset_starts(
    kernel_manager: AsyncMultiKernelManager, kind: type[LocalProvisioner] = RefusingProvisioner
) -> list[Any]:
    """Every new KernelManager is seen and given a ``kind`` provisioner beforehand."""
    seen: list[Any] = []

    def preset(manager: Any) -> None:
        seen.append(manager)
        preset_provisioner(manager, kind(kernel_spec=manager.kernel_spec, parent=manager))

    watch_new_kernel_managers(kernel_manager, preset)
    return seen


async def test_a_preset_provisioner_is_the_one_a_start_uses() -> None:
    kernel_manager = AsyncMultiKernelManager()
    seen = preset_starts(kernel_manager)

    with pytest.raises(RuntimeError, match="refused"):
        await kernel_manager.start_kernel(kernel_name="python3", kernel_id="k1")

    assert len(seen) == 1
    assert isinstance(seen[0].provisioner, RefusingProvisioner)  # not the kernelspec's


async def test_a_cancelled_start_stays_pending_until_forgotten() -> None:
    kernel_manager = AsyncMultiKernelManager()
    preset_starts(kernel_manager, QueuedProvisioner)
    start = asyncio.ensure_future(
        kernel_manager.start_kernel(kernel_name="python3", kernel_id="k2")
    )
    await asyncio.sleep(0.2)
    start.cancel()  # as a queued remote start is given up
    await asyncio.wait({start})

    # What forget_failed_start is for: shutdown_all stops on the start that never was.
    with pytest.raises(KeyError):
        await kernel_manager.shutdown_all(now=True)
    forget_failed_start(kernel_manager, "k2")
    await kernel_manager.shutdown_all(now=True)


async def test_websockets_take_a_preset_kernel_info_from_the_kernel_manager() -> None:
    """jupyter_server's kernel websocket asks the kernel only when its manager holds no
    ``_kernel_info_future``: a taken-over kernel busy with a cell must not make it wait."""
    from jupyter_server.services.kernels.connection.channels import (  # noqa: PLC0415
        ZMQChannelsWebsocketConnection,
    )

    source = inspect.getsource(ZMQChannelsWebsocketConnection.request_kernel_info)
    assert "future = self.kernel_manager._kernel_info_future" in source
    manager = types.SimpleNamespace()
    preset_kernel_info(manager, {"protocol_version": "5.3"})
    assert manager._kernel_info_future.result() == {"protocol_version": "5.3"}
