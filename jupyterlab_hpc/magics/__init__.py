"""Slurm in IPython: ``%load_ext jupyterlab_hpc.magics`` adds ``%squeue``, ``%sinfo``,
``%sacct``, ``%scancel`` and ``%%sbatch`` (slurm_magics.SlurmMagics)."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell

from jupyterlab_hpc.magics.slurm_magics import SlurmMagics


def load_ipython_extension(shell: InteractiveShell) -> None:
    """What ``%load_ext jupyterlab_hpc.magics`` calls."""
    shell.register_magics(SlurmMagics)
