"""Shape of the test cluster: its Slurm release, fixed names and addresses, and where its files
live."""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

CLUSTER_NAME = "hpc"
DEFAULT_MAX_JOB_COUNT = 20000
MIN_NODES, MAX_NODES, DEFAULT_NODES = 4, 9, 4


@dataclass(frozen=True)
class Release:
    """One Slurm release and the machine-wide names its cluster uses.

    The default release is the host's own Slurm (Debian 12). Newer ones run from a Debian root
    (`suite`) in a chroot, each with its own bridge, subnet, namespaces, ports and state
    directory, so that every release's cluster can run beside the default one.
    """

    name: str
    suite: str  # "" for the host's own Slurm
    net_prefix: str
    tag: str  # in the bridge, namespace, veth and lock names: "hpc" -> br-hpc, hpc-n1
    port_base: int  # slurmctld; then slurmd, slurmdbd, slurmrestd
    db_port: int
    default_dir: str

    @property
    def in_chroot(self):
        return bool(self.suite)

    @property
    def root(self):
        """The Debian root the release's programs run from (cached between clusters)."""
        return CHROOTS_DIR / self.suite if self.in_chroot else Path("/")

    @property
    def bridge(self):
        return f"br-{self.tag}"

    @property
    def controller_addr(self):
        return f"{self.net_prefix}.1"

    @property
    def ctld_port(self):
        return self.port_base

    @property
    def slurmd_port(self):
        return self.port_base + 1

    @property
    def dbd_port(self):
        return self.port_base + 2

    @property
    def rest_port(self):
        return self.port_base + 3

    @property
    def rest_url(self):
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def lock_file(self):
        """Serialises up/down of this release's cluster: its names and ports are machine-wide."""
        return Path(f"/run/jupyterlab-{self.tag}-cluster.lock")

    def node_addr(self, node):
        return f"{self.net_prefix}.{10 + int(node[1:])}"

    def netns_name(self, node):
        return f"{self.tag}-{node}"

    def veth_name(self, node):
        return f"v{self.tag}-{node}"

    def path(self, path):
        """Where an absolute path of the release's own system is, seen from the host."""
        return self.root / Path(path).relative_to("/")

    def command(self, argv, user=None):
        """``argv`` run with the release's programs (in its root), as ``user`` if given.

        Without a chroot, the caller switches user itself (subprocess's ``user=``).
        """
        if not self.in_chroot:
            return list(argv)
        userspec = [f"--userspec={user}:{user}"] if user else []
        return ["chroot", *userspec, str(self.root), *argv]


# Debian roots of the newer releases, built once (debootstrap) and reused by every `up`.
CHROOTS_DIR = Path("/var/tmp/jupyterlab-hpc-chroots")

RELEASES = {
    release.name: release
    for release in (
        Release("22.05", "", "10.201.0", "hpc", 6817, 3307, "/var/tmp/jupyterlab-hpc-cluster"),
        Release(
            "24.11", "trixie", "10.202.0", "hpc24", 6827, 3308,
            "/var/tmp/jupyterlab-hpc-cluster-24.11",
        ),
        Release(
            "26.05", "sid", "10.203.0", "hpc26", 6837, 3309,
            "/var/tmp/jupyterlab-hpc-cluster-26.05",
        ),
    )
}  # fmt: skip
DEFAULT_RELEASE = "22.05"  # the host's own Slurm
HOST = RELEASES[DEFAULT_RELEASE]

# The host's /etc/slurm/slurm.conf (a chroot's own, for the other releases) points at the
# cluster's slurm.conf, so plain `squeue` works for everybody.
SYSTEM_SLURM_CONF = Path("/etc/slurm/slurm.conf")


def controller_host():
    return socket.gethostname().split(".")[0]


def node_names(count):
    return [f"n{i}" for i in range(1, count + 1)]


@dataclass(frozen=True)
class Layout:
    """Paths inside the state directory ($HPC_CLUSTER_DIR)."""

    root: Path
    release: Release

    @classmethod
    def from_env(cls, release_name=DEFAULT_RELEASE):
        release = RELEASES[release_name]
        root = Path(os.environ.get("HPC_CLUSTER_DIR", release.default_dir)).absolute()
        return cls(root, release)

    def command(self, argv, user=None):
        """``argv`` run with the cluster's Slurm (see Release.command)."""
        return self.release.command(argv, user)

    @property
    def etc(self):
        return self.root / "etc"

    @property
    def run(self):
        """PID files written by this tool: the only PIDs `down` ever signals."""
        return self.root / "run"

    @property
    def rest_socket(self):
        """slurmrestd's Unix socket; the cluster's directory is the same path in a root."""
        return self.root / "rest" / "slurmrestd.sock"

    @property
    def log(self):
        return self.root / "log"

    @property
    def var(self):
        """Daemons' own state: slurmctld state, slurmd spools, MariaDB data."""
        return self.root / "var"

    @property
    def system_slurm_conf(self):
        return self.release.path(SYSTEM_SLURM_CONF)

    @property
    def slurm_conf(self):
        return self.etc / "slurm.conf"

    @property
    def slurmdbd_conf(self):
        return self.etc / "slurmdbd.conf"

    @property
    def gres_conf(self):
        return self.etc / "gres.conf"

    @property
    def jwt_key(self):
        return self.etc / "jwt_hs256.key"

    @property
    def accounts_file(self):
        return self.etc / "accounts.cfg"

    @property
    def node_hosts(self):
        return self.etc / "hosts.nodes"

    @property
    def node_resolv(self):
        return self.etc / "resolv.conf.nodes"

    @property
    def ctld_state(self):
        return self.var / "slurmctld"

    @property
    def dbd_state(self):
        return self.var / "slurmdbd"

    @property
    def slurmd_spool(self):
        return self.var / "slurmd"

    @property
    def fake_gpus(self):
        return self.var / "fake-gpus"

    @property
    def db_data(self):
        return self.var / "mysql"

    @property
    def db_run(self):
        return self.var / "mysql-run"

    @property
    def db_socket(self):
        return self.db_run / "mysqld.sock"

    @property
    def facts_file(self):
        return self.root / "cluster.json"

    def pidfile(self, daemon):
        return self.run / f"{daemon}.pid"

    def logfile(self, daemon):
        """The daemon's own log (slurm daemons, mariadbd): timestamped."""
        return self.log / f"{daemon}.log"

    def console(self, daemon):
        """What the daemon printed: start-up errors from before it opened its own log (and,
        for slurm daemons in the foreground, a copy of that log)."""
        return self.log / f"{daemon}.out"
