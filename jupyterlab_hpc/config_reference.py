"""Writes the configuration reference (docs/configuration.md) from the traitlets themselves.

    python -m jupyterlab_hpc.config_reference > docs/configuration.md

A test compares the committed file with this output, so the reference cannot go stale.
"""

from __future__ import annotations

import inspect
import sys

from traitlets import HasTraits, TraitType

from jupyterlab_hpc.app import HPCExtension
from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner
from jupyterlab_hpc.services.kernels import RemoteKernels
from jupyterlab_hpc.site.app import HPCSiteApp
from jupyterlab_hpc.slurm.connection import SlurmConnection

CONFIGURABLES: tuple[type[HasTraits], ...] = (
    HPCExtension,
    SlurmConnection,
    RemoteKernels,
    SlurmProvisioner,
    HPCSiteApp,
)

INTRODUCTION = """\
# Configuration reference

Generated from the code by `python -m jupyterlab_hpc.config_reference`; do not edit by hand.

Set these in a Jupyter server configuration file (`jupyter_server_config.py`, e.g. in
`/etc/jupyter` for every user of a login node), as `c.<Class>.<name> = value`. The
provisioner's settings also go in a kernelspec's `metadata.kernel_provisioner.config`
(see `jupyter-hpc-kernelspec --help`). The site service's (`HPCSiteApp`, with its own
`SlurmConnection`) go in `jupyter_hpc_site_config.py` in a Jupyter configuration folder of the
account it runs as, or on its command line (`jupyter hpc-site --help-all`).
"""


def trait_entry(name: str, trait: TraitType[object, object]) -> str:
    # A default taken from the running Python says so, rather than naming this machine's path.
    default = trait.default_value_repr().replace(repr(sys.executable), "sys.executable")
    help_text = inspect.cleandoc(trait.help) if trait.help else "(undocumented)"
    return f"### `{name}`\n\n{type(trait).__name__}, default `{default}`\n\n{help_text}\n"


def reference() -> str:
    sections = [INTRODUCTION]
    for configurable in CONFIGURABLES:
        summary = inspect.cleandoc(configurable.__doc__ or "").split("\n\n")[0]
        sections.append(f"## {configurable.__name__}\n\n{summary}\n")
        own_traits = configurable.class_own_traits(config=True)
        sections += [trait_entry(name, own_traits[name]) for name in sorted(own_traits)]
    return "\n".join(sections)


if __name__ == "__main__":
    print(reference(), end="")  # noqa: T201 - the reference is this module's output
