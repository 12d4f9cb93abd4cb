"""The names kernelspecs give the Slurm provisioner: ``hpc-slurm``, and the one it had before.

Releases before 0.2 registered ``slurm-provisioner``, which FZ Juelich's
jupyter-slurm-provisioner registers too: with both packages installed, which one a kernelspec
got depended on the order of installation. Now only ``hpc-slurm`` is registered. Kernelspecs
written with the old name keep working where no other package provides that name, through a
provisioner that says, once per kernel, that they should be written again; where another
package provides it, the name is that package's.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

from jupyter_client.provisioning.factory import KernelProvisionerFactory

PROVISIONER_NAME = "hpc-slurm"
LEGACY_PROVISIONER_NAME = "slurm-provisioner"
_LEGACY_PROVISIONER = "jupyterlab_hpc.kernels.provisioner:LegacySlurmProvisioner"


def is_ours(provisioner_name: object) -> bool:
    """Whether a kernelspec naming ``provisioner_name`` runs through this project's provisioner."""
    if provisioner_name == PROVISIONER_NAME:
        return True
    if provisioner_name != LEGACY_PROVISIONER_NAME:
        return False
    entry_point = KernelProvisionerFactory.instance().provisioners.get(LEGACY_PROVISIONER_NAME)
    return entry_point is not None and entry_point.value == _LEGACY_PROVISIONER


def keep_legacy_name() -> str | None:
    """Let kernelspecs naming the old name run through the legacy provisioner, unless another
    package provides that name; None when ours, else that package's entry point."""
    factory = KernelProvisionerFactory.instance()
    taken = factory.provisioners.get(LEGACY_PROVISIONER_NAME)
    if taken is not None and taken.value != _LEGACY_PROVISIONER:
        return str(taken.value)
    factory.provisioners[LEGACY_PROVISIONER_NAME] = EntryPoint(
        name=LEGACY_PROVISIONER_NAME, value=_LEGACY_PROVISIONER, group=factory.GROUP_NAME
    )
    return None
