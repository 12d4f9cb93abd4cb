"""``jupyter hpc-kernelspec install``: kernelspecs whose kernels run in Slurm jobs.

An admin (or a user, with ``--user``) turns an existing kernelspec into one that runs on a
compute node, so a launcher tile "Python 3 (compute node, 4 cores, 1 h)" starts a job::

    jupyter hpc-kernelspec install --name python3-compute \\
        --display-name "Python 3 (compute node, 4 cores, 1 h)" \\
        --partition compute --cpus 4 --time 1:00:00
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from jupyterlab_hpc.kernels.provisioner_names import PROVISIONER_NAME
from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.notation import time_text

_KERNEL_NAME = re.compile(r"^[a-z0-9._-]{1,64}$", re.IGNORECASE)  # jupyter_client's rule
_RESOURCE_OPTIONS = (
    ("partition", str),
    ("account", str),
    ("time", str),
    ("cpus", int),
    ("memory-mb", int),
    ("gpus", str),
    ("qos", str),
    ("constraint", str),
    ("reservation", str),
)


def slurm_kernel_json(
    base: Mapping[str, object], display_name: str, resources: JobResources
) -> dict[str, object]:
    """``base`` (a kernel.json) made to run through the Slurm provisioner with ``resources``."""
    base_metadata = base.get("metadata")
    metadata = dict(base_metadata) if isinstance(base_metadata, Mapping) else {}
    metadata["kernel_provisioner"] = {
        "provisioner_name": PROVISIONER_NAME,
        "config": {"resources": resources.to_json()},
    }
    return {**base, "display_name": display_name, "metadata": metadata}


def install(
    name: str,
    resources: JobResources,
    *,
    display_name: str | None = None,
    from_kernel: str = "python3",
    user: bool = False,
    prefix: str | None = None,
) -> str:
    """Install kernelspec ``name``: ``from_kernel``'s, run in Slurm jobs; its directory."""
    if not _KERNEL_NAME.match(name):
        msg = f"Not a valid kernel name: {name!r} (letters, digits, '.', '_' and '-')"
        raise InvalidRequest(msg)
    manager = KernelSpecManager()
    try:
        base = manager.get_kernel_spec(from_kernel)
    except NoSuchKernel as error:
        msg = f"No kernelspec named {from_kernel!r} to start from"
        raise InvalidRequest(msg) from error
    if base.metadata.get("kernel_provisioner"):
        msg = f"Kernelspec {from_kernel!r} already names a provisioner; start from a plain one"
        raise InvalidRequest(msg)
    spec = slurm_kernel_json(
        base.to_dict(),
        display_name or _default_display_name(base.display_name, resources),
        resources,
    )
    with tempfile.TemporaryDirectory() as staging:
        # Logos and other resources come along; kernel.json is ours.
        shutil.copytree(base.resource_dir, staging, dirs_exist_ok=True)
        (Path(staging) / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
        return str(manager.install_kernel_spec(staging, kernel_name=name, user=user, prefix=prefix))


def _default_display_name(base_name: str, resources: JobResources) -> str:
    details = [resources.partition or "compute node"]
    if resources.cpus:
        details.append(f"{resources.cpus} CPU{'s' if resources.cpus > 1 else ''}")
    if resources.gpus:
        details.append(f"GPUs {resources.gpus}")
    if resources.time:
        details.append(time_text(resources.time))
    return f"{base_name} ({', '.join(details)})"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="jupyter hpc-kernelspec", description="Kernelspecs whose kernels run in Slurm jobs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    installer = commands.add_parser("install", help="install a Slurm kernelspec")
    installer.add_argument("--name", required=True, help="the kernelspec's name")
    installer.add_argument("--display-name", help="what the launcher shows")
    installer.add_argument("--from-kernel", default="python3", help="kernelspec to run (python3)")
    for option, kind in _RESOURCE_OPTIONS:
        installer.add_argument(f"--{option}", type=kind, help=f"Slurm {option} of the kernel's job")
    where = installer.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for the current user only")
    where.add_argument("--sys-prefix", action="store_true", help=f"in {sys.prefix}")
    where.add_argument("--prefix", help="under this prefix (PREFIX/share/jupyter/kernels)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    values = {
        option.replace("-", "_"): getattr(arguments, option.replace("-", "_"))
        for option, _ in _RESOURCE_OPTIONS
    }
    try:
        resources = JobResources.from_mapping({k: v for k, v in values.items() if v is not None})
        path = install(
            arguments.name,
            resources,
            display_name=arguments.display_name,
            from_kernel=arguments.from_kernel,
            user=arguments.user,
            prefix=sys.prefix if arguments.sys_prefix else arguments.prefix,
        )
    except (InvalidRequest, OSError) as error:
        sys.stderr.write(f"jupyter hpc-kernelspec: {error}\n")
        return 1
    sys.stdout.write(f"Installed kernelspec {arguments.name} in {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
