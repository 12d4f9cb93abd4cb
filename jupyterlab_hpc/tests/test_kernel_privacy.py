"""Bob against alice's remote kernels: nothing of her kernel's traffic reaches him.

Alice's kernel prints a random marker while bob, a second Unix user on the login node,
connects a ZMQ SUB socket (empty subscription: every message) and a raw TCP reader to every
TCP port of her kernel and of its launcher's connection, and tries every Unix socket of the
relay on both hosts. Meanwhile root captures the cluster network's bridge, as someone on the
wire would. A control kernel that runs unencrypted (``transport_encryption = "auto"`` and a
kernelspec without CurveZMQ) shows that both probes do catch a leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from jupyterlab_hpc.kernels.launcher_link import MAX_STREAMS
from jupyterlab_hpc.kernels.relay import IPC_PORTS, ipc_path
from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.tests.conftest import as_user
from jupyterlab_hpc.tests.kernel_fixtures import (
    KERNEL_NAME,
    SlurmKernels,
    inbound_blocked,  # noqa: F401 - the fixture inbound_blocked
    provisioner_of,
    run_code,
    slurm_kernels_fixture,  # noqa: F401 - the fixture slurm_kernels
)

pytestmark = pytest.mark.cluster

PROBE_SECONDS = 4.0
# Bob's program: every message and byte he can get out of the endpoints he is given.
BOB_PROBE = r"""
import json, socket, sys, time
import zmq

tcp, unix, seconds, marker = json.loads(sys.argv[1])
marker = marker.encode()
context = zmq.Context()
subscribers, readers, refused = [], [], {}
for host, port in tcp:
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"")
    subscriber.connect(f"tcp://{host}:{port}")
    subscribers.append(subscriber)
    reader = socket.create_connection((host, port), timeout=2)
    reader.setblocking(False)
    readers.append(reader)
for path in unix:
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(path)
        refused[path] = None
    except OSError as error:
        refused[path] = type(error).__name__
    probe.close()
poller = zmq.Poller()
for subscriber in subscribers:
    poller.register(subscriber, zmq.POLLIN)
messages, raw = [], b""
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    for subscriber, _ in poller.poll(50):
        messages.append(b"".join(subscriber.recv_multipart()))
    for reader in readers:
        try:
            raw += reader.recv(65536)
        except (BlockingIOError, ConnectionError):
            pass
print(json.dumps({
    "messages": len(messages),
    "marker_in_messages": any(marker in message for message in messages),
    "raw_bytes": len(raw),
    "marker_in_raw": marker in raw,
    "unix": refused,
}))
"""


async def bob_probes(
    tcp: list[tuple[str, int]], unix: list[str], marker: str, seconds: float = PROBE_SECONDS
) -> asyncio.subprocess.Process:
    """Start bob's probe (it reports on stdout when done)."""
    return await asyncio.create_subprocess_exec(
        *as_user("bob"),
        sys.executable,
        "-c",
        BOB_PROBE,
        json.dumps([tcp, unix, seconds, marker]),
        stdout=asyncio.subprocess.PIPE,
    )


async def probe_report(probe: asyncio.subprocess.Process) -> dict[str, Any]:
    stdout, _ = await asyncio.wait_for(probe.communicate(), PROBE_SECONDS + 20)
    assert probe.returncode == 0
    report: dict[str, Any] = json.loads(stdout)
    return report


class WireCapture:
    """Every frame on the cluster network's bridge (root, AF_PACKET), while it runs."""

    def __init__(self, interface: str) -> None:
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self._socket.bind((interface, 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self.frames = bytearray()
        self._thread = threading.Thread(target=self._capture, daemon=True)

    def __enter__(self) -> WireCapture:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _capture(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.frames += self._socket.recv(65536)


def bridge_of(cluster: dict[str, Any]) -> str:
    """The bridge the nodes hang on: the interface that holds the controller's address."""
    addresses = subprocess.run(
        ["ip", "-json", "-4", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    for interface in json.loads(addresses):
        for address in interface.get("addr_info", []):
            if address.get("local") == cluster["controller"]["addr"]:
                return str(interface["ifname"])
    pytest.fail("no interface holds the controller's address")


def printing(marker: str, seconds: float) -> str:
    """Code that prints a line of ``marker`` ten times a second for ``seconds``."""
    return (
        "import time\n"
        f"for _ in range({int(seconds * 10)}):\n"
        f"    print(' '.join([{marker!r}] * 20), flush=True)\n"
        "    time.sleep(0.1)\n"
    )


async def alice_talks_while_bob_listens(
    client: AsyncKernelClient,
    cluster: dict[str, Any],
    tcp: list[tuple[str, int]],
    unix: list[str],
) -> tuple[dict[str, Any], WireCapture, str]:
    """Bob's report and the wire capture while alice's kernel prints a fresh marker."""
    marker = f"alice-secret-{uuid.uuid4().hex}"
    with WireCapture(bridge_of(cluster)) as capture:
        probe = await bob_probes(tcp, unix, marker)
        await asyncio.sleep(1.0)  # bob is connected before alice's code runs
        result = await run_code(client, printing(marker, PROBE_SECONDS - 2))
        report = await probe_report(probe)
    assert marker in result["stdout"]  # alice herself got her output
    return report, capture, marker


def kernel_tcp_ports(manager: AsyncKernelManager) -> list[tuple[str, int]]:
    return [(manager.ip, int(getattr(manager, name))) for name in IPC_PORTS]


async def test_bob_reads_nothing_of_a_direct_kernel(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, client = await slurm_kernels.start()
    assert manager.transport == "tcp"
    assert manager.curve_secretkey is not None  # encrypted with keys only alice's server has

    launcher_address = provisioner_of(manager).launcher_address
    assert launcher_address is not None
    endpoints = [*kernel_tcp_ports(manager), launcher_address]
    report, capture, marker = await alice_talks_while_bob_listens(client, cluster, endpoints, [])

    assert report["messages"] == 0
    assert not report["marker_in_raw"]
    assert len(capture.frames) > 20_000  # the capture saw the traffic, encrypted
    assert marker.encode() not in capture.frames


@pytest.mark.usefixtures("inbound_blocked")
async def test_bob_reads_nothing_of_a_reverse_kernel(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, client = await slurm_kernels.start({"kernel_connection": "reverse"})
    kernel_side = await run_code(
        client,
        "import json\nfrom ipykernel.connect import get_connection_file\n"
        "print(json.load(open(get_connection_file()))['ip'])",
    )
    unix = [
        ipc_path(prefix, port)
        for prefix in (manager.ip, kernel_side["stdout"].strip())
        for port in IPC_PORTS.values()
    ]
    assert all(Path(path).exists() for path in unix)  # root sees them: they are real

    launcher_address = provisioner_of(manager).launcher_address
    assert launcher_address is not None
    report, capture, marker = await alice_talks_while_bob_listens(
        client, cluster, [launcher_address], unix
    )

    assert report["unix"] == dict.fromkeys(unix, "PermissionError")
    assert report["messages"] == 0
    assert not report["marker_in_raw"]
    assert len(capture.frames) > 20_000
    assert marker.encode() not in capture.frames


@pytest.fixture
def unencrypted_kernel_name(slurm_kernels: SlurmKernels) -> str:
    """A copy of the test kernelspec that does not declare CurveZMQ, as older kernels."""
    spec_dir = Path(os.environ["JUPYTER_PATH"]) / "kernels"
    name = f"{KERNEL_NAME}-plain"
    (spec_dir / name).mkdir()
    spec = json.loads((spec_dir / KERNEL_NAME / "kernel.json").read_text())
    del spec["metadata"]["supported_encryption"]
    (spec_dir / name / "kernel.json").write_text(json.dumps(spec))
    return name


async def test_the_probes_catch_an_unencrypted_kernel(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any], unencrypted_kernel_name: str
) -> None:
    """The control: what the two tests above would see if encryption were missing."""
    manager = AsyncKernelManager(
        kernel_name=unencrypted_kernel_name,
        config=slurm_kernels.config(transport_encryption="auto"),
    )
    slurm_kernels.managers.append(manager)
    await manager.start_kernel(cwd="/tmp")
    client = manager.client()
    client.start_channels()
    slurm_kernels.clients.append(client)
    await client.wait_for_ready(timeout=60)
    assert manager.curve_secretkey is None

    report, capture, marker = await alice_talks_while_bob_listens(
        client, cluster, kernel_tcp_ports(manager), []
    )

    assert report["marker_in_messages"]  # bob read alice's output off iopub
    assert marker.encode() in capture.frames


async def test_a_kernel_that_cannot_encrypt_is_refused_before_anything_is_submitted(
    slurm_kernels: SlurmKernels, unencrypted_kernel_name: str
) -> None:
    manager = AsyncKernelManager(kernel_name=unencrypted_kernel_name, config=slurm_kernels.config())
    slurm_kernels.managers.append(manager)

    with pytest.raises(InvalidRequest, match="cannot encrypt its traffic"):
        await manager.start_kernel(cwd="/tmp")

    assert provisioner_of(manager).job_id is None


@pytest.mark.usefixtures("inbound_blocked")
async def test_the_relay_bounds_the_streams_it_holds_open(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start({"kernel_connection": "reverse"})
    shell = ipc_path(manager.ip, IPC_PORTS["shell_port"])

    # Alice's own runaway program (only she can reach the relay): the relay stops at the cap.
    connections = [await asyncio.open_unix_connection(shell) for _ in range(MAX_STREAMS + 20)]
    # The first byte of the kernel's ZMQ greeting, or the end of a refused stream. 148 streams
    # opened at once take a while on a loaded 2-core machine (one CI run needed over 10 s).
    answers = await asyncio.gather(
        *(asyncio.wait_for(reader.read(1), 45) for reader, _ in connections)
    )
    refused = answers.count(b"")
    assert refused >= 20
    assert len(answers) - refused <= MAX_STREAMS
    for _, writer in connections:
        writer.close()

    assert (await run_code(client, "print(6 * 7)"))["stdout"] == "42\n"


def command_lines() -> bytes:
    """Every process's command line, as any user's ``ps`` shows them."""
    lines = bytearray()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                lines += (entry / "cmdline").read_bytes() + b"\n"
    return bytes(lines)


async def test_no_kernel_secret_is_on_any_command_line_during_a_start(
    slurm_kernels: SlurmKernels,
) -> None:
    seen = bytearray()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.extend(command_lines())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        manager, _ = await slurm_kernels.start()
    finally:
        stop.set()
        watcher.join()

    assert b"launcher" in seen  # the watcher did see the job's processes
    secrets = {
        "the HMAC key": manager.session.key,
        "the Curve secret key": manager.curve_secretkey,
        "the Curve public key": manager.curve_publickey,
    }
    for what, secret in secrets.items():
        assert secret
        assert secret not in seen, f"{what} was on a command line"
