"""Debian roots for the newer Slurm releases: built once, then mounted while a cluster runs.

A release's daemons and commands run in its root with chroot. They share the host's network
(its bridge and node namespaces), /dev, /sys, /tmp, /home, this checkout and the cluster's
state directory (at the same paths, so configuration files, home directories and the
project's code mean the same inside and out, as on a cluster's shared filesystem), but have
their own /etc (users, munge key), /run (munged's socket) and programs. Their MariaDB is a
private instance of the host's (see ROOT_PACKAGES).
"""

import os
import platform
import shutil
import sys
from pathlib import Path

from cluster_process import ClusterError, run
from cluster_system import APT_OPTIONS, PACKAGES, install_packages

MIRROR = "http://deb.debian.org/debian"
# ip, curl and MariaDB run on the host: Slurm 24.11's slurmdbd fails against trixie's MariaDB
# 11.8 ("_check_mysql_concat_is_sane: null result"), and works with the host's 10.11.
# Jobs run Python, as on a real cluster's nodes (capture_outputs.py's job script does), and
# the Slurm provisioner's kernels run ipykernel there (JOB_PYTHON).
ROOT_PACKAGES = (
    *(name for name in PACKAGES if name not in {"iproute2", "curl", "mariadb-server"}),
    "python3-minimal",
    "python3-venv",
)
# The kernels' Python in the root: a venv with an ipykernel from PyPI, as Debian's (6.29)
# cannot encrypt and the provisioner requires it. It imports jupyterlab_hpc from CHECKOUT (on
# PYTHONPATH), as a site's nodes import it from shared software.
KERNEL_VENV = "/opt/jupyterlab-hpc-kernel"
KERNEL_REQUIREMENT = "ipykernel>=7.3"
JOB_PYTHON = f"{KERNEL_VENV}/bin/python"
WHEELS = Path("/var/cache/jupyterlab-hpc-wheels")
CHECKOUT = Path(__file__).resolve().parent.parent
# Written last, listing ROOT_PACKAGES: a root without it is a build that did not finish, one
# with another list was built for another version of this tool.
BUILT_MARKER = ".jupyterlab-hpc-root"
APT_CONF = "etc/apt/apt.conf.d/90jupyterlab-hpc"
# sid's Release files are valid for a week only; a machine whose clock or mirror lags must not
# be refused.
APT_SETTINGS = 'Acquire::Check-Valid-Until "false";\n'
POLICY_RC_D = "usr/sbin/policy-rc.d"


def root_is_built(release):
    marker = release.root / BUILT_MARKER
    return marker.is_file() and marker.read_text() == _marker_text()


def _marker_text():
    return " ".join((*ROOT_PACKAGES, KERNEL_REQUIREMENT)) + "\n"


def build_root(release, clock):
    """debootstrap the release's Debian suite and install Slurm into it (~40 s, once). A root
    finished for another package list only gets the packages installed (~30 s)."""
    root = release.root
    # Never delete or change a tree that still has /dev or /tmp mounted in it.
    if mounts_under(root):
        message = f"{root} has mounts; run `down --release {release.name}` first"
        raise ClusterError(message)
    if (root / BUILT_MARKER).is_file():
        clock.log(f"installing the package list into the Debian {release.suite} root {root}")
    else:
        _debootstrap(release, clock)
    # Some maintainer scripts need /proc.
    run(["mount", "-t", "proc", "proc", str(root / "proc")])
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["chroot", str(root), "apt-get", *APT_OPTIONS]
        run([*apt, "update"], env=env, timeout=600)
        install = ["install", "-y", "--no-install-recommends", *ROOT_PACKAGES]
        run([*apt, *install], env=env, timeout=1800)
        _install_kernel_venv(root, env)
    finally:
        run(["umount", str(root / "proc")], check=False)
    (root / BUILT_MARKER).write_text(_marker_text())
    clock.log(f"Debian {release.suite} root ready")


def _install_kernel_venv(root, env):
    """KERNEL_VENV in the root, from wheels the host's pip fetches for the root's Python (the
    host's pip has the host's index settings and trust store, which the root lacks)."""
    run(["chroot", str(root), "python3", "-m", "venv", KERNEL_VENV], env=env)
    version = run(
        ["chroot", str(root), "python3", "-c", "import sys; print('%d%d' % sys.version_info[:2])"]
    ).stdout.strip()
    wheels = root / WHEELS.relative_to("/")
    host_pip = [sys.executable, "-m", "pip", "download", "-q", "--dest", str(wheels)]
    binary = ["--only-binary=:all:", "--implementation", "cp", "--python-version", version]
    for glibc in ("2_28", "2_17", "2_5"):  # wheels name the oldest glibc they need
        binary += ["--platform", f"manylinux_{glibc}_{platform.machine()}"]
    run([*host_pip, *binary, KERNEL_REQUIREMENT], env=env, timeout=1800)
    offline = ["install", "-q", "--no-index", "--find-links", str(WHEELS), KERNEL_REQUIREMENT]
    run(["chroot", str(root), f"{KERNEL_VENV}/bin/pip", *offline], env=env, timeout=1800)


def _debootstrap(release, clock):
    root = release.root
    if root.exists():
        shutil.rmtree(root)  # an unfinished build
    root.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("debootstrap") is None:  # the host's Slurm cluster does not need it
        clock.log("installing debootstrap")
        install_packages(["debootstrap"])
    clock.log(f"building Debian {release.suite} root in {root} (debootstrap)")
    run(["debootstrap", "--variant=minbase", release.suite, str(root), MIRROR], timeout=1800)
    (root / APT_CONF).write_text(APT_SETTINGS)
    policy = root / POLICY_RC_D
    policy.write_text("#!/bin/sh\n# jupyterlab-hpc: no daemons from postinst\nexit 101\n")
    policy.chmod(0o755)


def bind_points(layout):
    """(source, target in the root) of every bind mount, in mounting order."""
    root = layout.release.root
    shared = [Path("/sys"), Path("/dev"), Path("/tmp"), Path("/home"), CHECKOUT, layout.root]
    return [(path, root / path.relative_to("/")) for path in shared]


def root_problems(layout):
    """What keeps the release's root from being ready for its running cluster."""
    release = layout.release
    problems = []
    if not root_is_built(release):
        problems.append(f"{release.root} is not built for this tool's package list")
    mounted = set(mounts_under(release.root))
    problems += [
        f"{source} is not mounted at {target}"
        for source, target in bind_points(layout)
        if str(target) not in mounted
    ]
    return problems


def mount_root(layout):
    """Mount /proc and bind the shared directories into the release's root."""
    root = layout.release.root
    unmount_root(layout)
    # Names resolve as on the host (mariadb-install-db needs the host's name, for one).
    for name in ("hosts", "resolv.conf"):
        shutil.copyfile(Path("/etc", name), root / "etc" / name)
    run(["mount", "-t", "proc", "proc", str(root / "proc")])
    for source, target in bind_points(layout):
        target.mkdir(parents=True, exist_ok=True)
        run(["mount", "--rbind", str(source), str(target)])
        # Unmounting our copy later must not unmount anything of the host's.
        run(["mount", "--make-rslave", str(target)])


def unmount_root(layout):
    """Unmount everything mounted below the root, deepest first."""
    for target in sorted(mounts_under(layout.release.root), key=len, reverse=True):
        if run(["umount", target], check=False).returncode != 0:
            # Busy (a process still has a file open there): detach it now, free it later.
            run(["umount", "--lazy", target], check=False)
    left = mounts_under(layout.release.root)
    if left:
        message = f"could not unmount {', '.join(left)}"
        raise ClusterError(message)


def mounts_under(root):
    """Mount points strictly below ``root``, from this process's mount table."""
    prefix = str(root).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, with spaces etc. as octal escapes ("\040").
        point = line.split()[4].encode().decode("unicode_escape")
        if point.startswith(prefix):
            points.append(point)
    return points
