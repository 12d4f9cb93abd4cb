"""Every place this project reaches into jupyter_client beyond its documented API.

The kernel manager offers no per-start choice of provisioner and no hook for the managers it
builds, so remote kernels lean on three details of jupyter_client 8.10 (the range pinned in
pyproject.toml, exercised by test_jupyter_client_hooks.py against the installed release):

- ``MultiKernelManager.kernel_manager_factory`` (a public trait) builds each kernel's
  KernelManager; it is wrapped to see every new manager. jupyter_client rebuilds the factory
  when ``kernel_manager_class`` changes, which a server never does after start-up.
- ``KernelManager.pre_start_kernel`` keeps a provisioner that is already set ("will not be
  None on restarts"), so a start can be given its provisioner beforehand.
- ``MultiKernelManager._pending_kernels`` keeps the task of a start that failed or was
  cancelled, and ``shutdown_all`` would then wait on a kernel that never was.

And one of jupyter_server 2.x's: its kernel websocket asks a kernel for kernel_info once, on
the shell channel, keeping the answer's future on the KernelManager as
``_kernel_info_future``; every websocket waits for it. A kernel taken over from a dead server
may be busy with a cell, and its shell answers only when the cell ends: the answer it gave on
the control channel is put there beforehand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jupyter_client.multikernelmanager import MultiKernelManager


def watch_new_kernel_managers(
    kernel_manager: MultiKernelManager, seen: Callable[[Any], None]
) -> None:
    """Call ``seen`` with every KernelManager ``kernel_manager`` builds, before its start."""
    build = kernel_manager.kernel_manager_factory

    def build_and_report(*args: Any, **kwargs: Any) -> Any:
        manager = build(*args, **kwargs)
        seen(manager)
        return manager

    kernel_manager.kernel_manager_factory = build_and_report


def preset_provisioner(manager: Any, provisioner: Any) -> None:
    """Have ``manager``'s coming start use ``provisioner`` instead of its kernelspec's."""
    manager.provisioner = provisioner


def preset_kernel_info(manager: Any, content: dict[str, Any]) -> None:
    """Have websockets to ``manager``'s kernel use ``content`` (a kernel_info_reply's)."""
    answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    answered.set_result(content)
    manager._kernel_info_future = answered


def forget_failed_start(kernel_manager: MultiKernelManager, kernel_id: str) -> None:
    """Drop a start that failed or was cancelled from the pending starts."""
    kernel_manager._pending_kernels.pop(kernel_id, None)
