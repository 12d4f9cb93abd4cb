"""jupyterlab-hpc: Slurm jobs, partitions, quotas and remote kernels in JupyterLab."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("jupyterlab-hpc")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "dev"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-hpc"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    # Imported here, not at the top: the kernel launcher on a compute node imports this package
    # and must not pay for jupyter_server's import (about 1.4 s).
    from jupyterlab_hpc.app import HPCExtension  # noqa: PLC0415

    return [{"module": "jupyterlab_hpc", "app": HPCExtension}]
