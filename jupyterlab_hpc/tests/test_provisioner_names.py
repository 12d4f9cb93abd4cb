"""The provisioner's name, ``hpc-slurm``, and the old ``slurm-provisioner``: kept for this
project's old kernelspecs only where no other package (FZ Juelich's) provides it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from jupyterlab_hpc.kernels.provisioner import LegacySlurmProvisioner, SlurmProvisioner
from jupyterlab_hpc.kernels.provisioner_names import (
    LEGACY_PROVISIONER_NAME,
    PROVISIONER_NAME,
    is_ours,
    keep_legacy_name,
)

# FZ Juelich's provisioner, which registers the old name too.
OTHER_PACKAGE = "jupyter-slurm-provisioner==0.6.0"


def test_only_the_new_name_is_registered_and_it_is_ours() -> None:
    factory = KernelProvisionerFactory.instance()

    assert factory.provisioners[PROVISIONER_NAME].load() is SlurmProvisioner
    registered = [entry.name for entry in KernelProvisionerFactory._get_all_provisioners()]
    assert LEGACY_PROVISIONER_NAME not in registered


def test_without_another_package_the_old_name_runs_ours_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory = KernelProvisionerFactory.instance()
    monkeypatch.setattr(factory, "provisioners", dict(factory.provisioners))
    spec = KernelSpec(
        argv=["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        metadata={"kernel_provisioner": {"provisioner_name": LEGACY_PROVISIONER_NAME}},
    )

    assert keep_legacy_name() is None
    assert is_ours(LEGACY_PROVISIONER_NAME)
    with pytest.warns(DeprecationWarning, match="now 'hpc-slurm'"):
        provisioner = factory.create_provisioner_instance("k1", spec, parent=None)
    assert isinstance(provisioner, LegacySlurmProvisioner)


def test_beside_fz_juelichs_provisioner_each_name_runs_its_own_package(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target"]
    subprocess.run([*install, str(target), OTHER_PACKAGE], check=True, timeout=120)
    probe = (
        "import json\n"
        "from jupyter_client.provisioning.factory import KernelProvisionerFactory as F\n"
        "from jupyterlab_hpc.kernels.provisioner_names import is_ours, keep_legacy_name\n"
        "other = keep_legacy_name()\n"
        "names = F.instance().provisioners\n"
        "print(json.dumps({'other': other, 'legacy_is_ours': is_ours('slurm-provisioner'),\n"
        "    'ours': names['hpc-slurm'].value, 'legacy': names['slurm-provisioner'].value}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert json.loads(result.stdout) == {
        "other": "jupyter_slurm_provisioner:SlurmProvisioner",
        "legacy_is_ours": False,
        "ours": "jupyterlab_hpc.kernels.provisioner:SlurmProvisioner",
        "legacy": "jupyter_slurm_provisioner:SlurmProvisioner",
    }
