"""Fixtures for the Slurm kernel tests: kernelspecs made by the CLI, kernels started as alice.

The tests run as root; the provisioner reaches Slurm as alice through the command prefix,
so the job, the kernel and the secrets file all belong to alice, as they would for a server
running as alice. Against another release's cluster (``HPC_CLUSTER_DIR``) the prefix enters
its root first, and its jobs run the root's Python with the checkout on PYTHONPATH, as
cluster.json says (``job_python``, ``job_pythonpath``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

from jupyterlab_hpc.kernels.kernelspec import install
from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner
from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, as_user

ALICE = as_user("alice")
HANDOFF_DIR = Path("/home/alice/.jupyterlab-hpc/kernels")
KERNEL_NAME = "python3-slurm-test"
# Short enough for the tests; the defaults (60 s, 5 s) suit real servers.
GRACE_PERIOD = 4.0
HEARTBEAT = 1.0


@dataclass
class SlurmKernels:
    """Starts kernels through the Slurm provisioner and remembers every job for cleanup."""

    job_name: str
    python: str = sys.executable
    prologue: list[str] = field(default_factory=list)  # the cluster's, before a test's own
    managers: list[AsyncKernelManager] = field(default_factory=list)
    clients: list[AsyncKernelClient] = field(default_factory=list)

    def config(self, connection: dict[str, Any] | None = None, **provisioner: Any) -> Config:
        """Kernels as alice through the commands, or through ``connection``'s backend (the
        prefix then still writes alice's private files)."""
        prologue = [*self.prologue, *provisioner.pop("prologue", [])]
        return Config(
            {
                "SlurmConnection": {"command_prefix": ALICE, **(connection or {})},
                "SlurmProvisioner": {
                    "python": self.python,
                    "prologue": prologue,
                    "grace_period": GRACE_PERIOD,
                    "heartbeat_interval": HEARTBEAT,
                    "job_name": self.job_name,
                    "walltime_warning": 0,
                    **provisioner,
                },
            }
        )

    def manager(
        self, connection: dict[str, Any] | None = None, **provisioner: Any
    ) -> AsyncKernelManager:
        config = self.config(connection, **provisioner)
        manager = AsyncKernelManager(kernel_name=KERNEL_NAME, config=config)
        self.managers.append(manager)
        return manager

    async def start(
        self,
        provisioner: dict[str, Any] | None = None,
        connection: dict[str, Any] | None = None,
        **launch: Any,
    ) -> tuple[AsyncKernelManager, AsyncKernelClient]:
        """A running kernel on a compute node and a client that has seen it ready."""
        manager = self.manager(connection, **(provisioner or {}))
        await manager.start_kernel(cwd="/tmp", **launch)
        client = manager.client()
        client.start_channels()
        self.clients.append(client)
        await client.wait_for_ready(timeout=60)
        return manager, client


def provisioner_of(manager: AsyncKernelManager) -> SlurmProvisioner:
    assert isinstance(manager.provisioner, SlurmProvisioner)
    return manager.provisioner


def provisioner_and_job(manager: AsyncKernelManager) -> tuple[SlurmProvisioner, str]:
    """A started remote kernel's provisioner and its Slurm job id."""
    provisioner = provisioner_of(manager)
    job_id = provisioner.job_id
    assert job_id is not None
    return provisioner, job_id


async def run_code(client: AsyncKernelClient, code: str, timeout: float = 30) -> dict[str, Any]:
    """Execute ``code``; its stdout and the reply's content."""
    output: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            output.append(message["content"]["text"])

    reply = await client.execute_interactive(code, timeout=timeout, output_hook=collect)
    return {"stdout": "".join(output), **reply["content"]}


async def reply_to(client: AsyncKernelClient, msg_id: str, timeout: float = 10) -> dict[str, Any]:
    """The shell reply to request ``msg_id``. Replies to earlier requests are skipped:
    wait_for_ready repeats kernel_info while IOPub is quiet, and the extra replies come later."""
    deadline = time.monotonic() + timeout
    while True:
        reply: dict[str, Any] = await client.get_shell_msg(
            timeout=max(deadline - time.monotonic(), 0)
        )
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


async def kernel_is_dead(manager: AsyncKernelManager) -> bool:
    return not await manager.is_alive()


def squeue_state(job_id: str) -> str:
    """The job's state while slurmctld has it ('' once it is forgotten)."""
    result = subprocess.run(
        [
            *CLUSTER_PREFIX,
            "squeue",
            "--noheader",
            f"--jobs={job_id}",
            "--states=all",
            "--format=%T",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def active_in_queue(job_id: str) -> bool:
    """Whether plain squeue (pending and running jobs) still lists the job."""
    result = subprocess.run(
        [*CLUSTER_PREFIX, "squeue", "--noheader", f"--jobs={job_id}", "--format=%i"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == job_id


def processes_of_job(job_id: str) -> list[int]:
    """PIDs of Slurm job ``job_id``'s processes (every node runs on this machine): its steps'
    slurmstepd and whatever runs in the job, which inherits SLURM_JOB_ID, even if it left the
    step's process tree. Only this job's: not those of the demo's or another test's jobs."""
    stepd = f"slurmstepd: [{job_id}.".encode()
    variable = f"SLURM_JOB_ID={job_id}".encode()
    found = []
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            command = (process / "cmdline").read_bytes()
            environment = (process / "environ").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if command.startswith(stepd) or variable in environment:
            found.append(int(process.name))
    return found


def node_namespace(cluster: dict[str, Any], node: str) -> str:
    """The network namespace a node's slurmd runs in (cluster.json's from before the tool
    wrote them: the default cluster's names)."""
    return str(cluster.get("node_namespaces", {}).get(node, f"hpc-{node}"))


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], timeout: float, interval: float = 0.2
) -> float:
    """Seconds until ``check()`` (sync or async) is true; fails the test after ``timeout``."""
    started = time.monotonic()
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout} s: {check}")
        await asyncio.sleep(interval)


@pytest.fixture(name="slurm_kernels")
def slurm_kernels_fixture(
    cluster: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[SlurmKernels]:
    """A kernelspec (written by ``jupyter hpc-kernelspec``) in a private JUPYTER_PATH; after
    the test every kernel is shut down and every job it started cancelled, whatever happened."""
    install(
        KERNEL_NAME,
        JobResources(partition="compute", time=600),
        display_name="Python 3 (compute node, test)",
        prefix=str(tmp_path / "prefix"),
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "prefix" / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    kernels = SlurmKernels(
        job_name=f"pytest-kernel-{uuid.uuid4().hex[:8]}",
        python=cluster.get("job_python", sys.executable),
        prologue=(
            [f"export PYTHONPATH={shlex.quote(cluster['job_pythonpath'])}"]
            if "job_pythonpath" in cluster
            else []
        ),
    )
    yield kernels
    for client in kernels.clients:
        client.stop_channels()
    for manager in kernels.managers:
        if manager.has_kernel:
            with contextlib.suppress(Exception):
                jp_asyncio_loop.run_until_complete(
                    asyncio.wait_for(manager.shutdown_kernel(now=True), 30)
                )
    subprocess.run(
        [*CLUSTER_PREFIX, "scancel", f"--name={kernels.job_name}"], capture_output=True, check=False
    )
    # Logs of kernels that died are kept for users; the tests' own need not pile up.
    jobs = subprocess.run(
        [
            *CLUSTER_PREFIX,
            "sacct",
            "--noheader",
            "--allocations",
            f"--name={kernels.job_name}",
            "--format=JobID",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for job_id in jobs:
        (HANDOFF_DIR / f"kernel-{job_id}.log").unlink(missing_ok=True)


@pytest.fixture
def inbound_blocked(cluster: dict[str, Any]) -> Iterator[None]:
    """Compute nodes that accept no inbound connection but slurmd's, as at many sites."""
    table = "jupyterlab_hpc_test"
    # slurmctld must still reach slurmd, or the nodes go "not responding".
    config = subprocess.run(
        [*CLUSTER_PREFIX, "scontrol", "show", "config"], capture_output=True, text=True, check=True
    ).stdout
    slurmd_port = re.search(r"^SlurmdPort\s*=\s*(\d+)", config, re.MULTILINE)
    assert slurmd_port is not None
    rules = [
        ["add", "table", "inet", table],
        ["add", "chain", "inet", table, "input",
         "{ type filter hook input priority 0 ; policy accept ; }"],
        ["add", "rule", "inet", table, "input", "iifname", "lo", "accept"],
        ["add", "rule", "inet", table, "input", "tcp", "dport", "!=", slurmd_port[1],
         "ct", "state", "new", "drop"],
    ]  # fmt: skip
    namespaces = [node_namespace(cluster, node) for node in cluster["nodes"]]
    try:
        for namespace in namespaces:
            for rule in rules:
                subprocess.run(["ip", "netns", "exec", namespace, "nft", *rule], check=True)
        yield
    finally:
        for namespace in namespaces:
            subprocess.run(
                ["ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", table],
                capture_output=True,
                check=False,
            )
