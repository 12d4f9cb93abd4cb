"""jupyterlab-hpc: Slurm jobs, partitions, quotas and remote kernels in JupyterLab."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from jupyterlab_hpc.app import HPCExtension

try:
    __version__ = version("jupyterlab-hpc")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "dev"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-hpc"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "jupyterlab_hpc", "app": HPCExtension}]
