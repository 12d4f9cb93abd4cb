"""Shape of the test cluster: fixed names and addresses, and where its files live."""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = "/var/tmp/jupyterlab-hpc-cluster"
CLUSTER_NAME = "hpc"

# Network: one bridge in the root namespace, one network namespace per node.
BRIDGE = "br-hpc"
NET_PREFIX = "10.201.0"
CONTROLLER_ADDR = f"{NET_PREFIX}.1"

DB_PORT = 3307
REST_PORT = 6820
REST_URL = f"http://127.0.0.1:{REST_PORT}"

MIN_NODES, MAX_NODES, DEFAULT_NODES = 4, 9, 4
DEFAULT_MAX_JOB_COUNT = 20000

# /etc/slurm/slurm.conf points at our slurm.conf so plain `squeue` works for everybody.
SYSTEM_SLURM_CONF = Path("/etc/slurm/slurm.conf")

# Serialises up/down: names, ports and addresses are machine-wide, so is the lock.
LOCK_FILE = Path("/run/jupyterlab-hpc-cluster.lock")


def controller_host():
    return socket.gethostname().split(".")[0]


def node_names(count):
    return [f"n{i}" for i in range(1, count + 1)]


def node_addr(node):
    return f"{NET_PREFIX}.{10 + int(node[1:])}"


def netns_name(node):
    return f"hpc-{node}"


def veth_name(node):
    return f"vhpc-{node}"


@dataclass(frozen=True)
class Layout:
    """Paths inside the state directory ($HPC_CLUSTER_DIR)."""

    root: Path

    @classmethod
    def from_env(cls):
        return cls(Path(os.environ.get("HPC_CLUSTER_DIR", DEFAULT_DIR)).absolute())

    @property
    def etc(self):
        return self.root / "etc"

    @property
    def run(self):
        """PID files written by this tool: the only PIDs `down` ever signals."""
        return self.root / "run"

    @property
    def log(self):
        return self.root / "log"

    @property
    def var(self):
        """Daemons' own state: slurmctld state, slurmd spools, MariaDB data."""
        return self.root / "var"

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
