"""The process at the heart of a kernel's Slurm job (``python -m jupyterlab_hpc.kernels.launcher``).

The batch script ``exec``s it, so the job lasts exactly as long as it does. It dials out to
the Jupyter server (compute nodes often accept no inbound connections, and the server's
address is the one thing the job knows), starts the kernel when asked, relays signals, starts
a new kernel process in the same job on restart, and ends the job when told to or when the
server has been silent for the grace period: a SIGKILLed server leaves no job behind.

Standard library only (plus this package's channel and handoff modules): whatever it imports
is paid for at every kernel start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyterlab_hpc.kernels.channel import (
    Channel,
    ChannelClosed,
    ChannelRefused,
    Message,
    open_channel,
)
from jupyterlab_hpc.kernels.handoff import CURVE_KEYS, read_secrets_once
from jupyterlab_hpc.kernels.relay import (
    IPC_NAME,
    IPC_PORTS,
    KERNEL_PORTS,
    StreamRelay,
    ipc_path,
)
from jupyterlab_hpc.kernels.zmtp import socket_mechanism

RECONNECT_DELAY = 1.0
KERNEL_STOP_WAIT = 5.0
# From the kernel's start until its sockets must answer (it binds them before its imports).
KERNEL_LISTEN_TIMEOUT = 60.0

log = logging.getLogger("jupyterlab_hpc.kernels.launcher")


class Launcher:
    """Keeps one kernel process and one connection to the server."""

    def __init__(
        self,
        server: tuple[str, int],
        secrets: dict[str, Any],
        *,
        grace_period: float,
        heartbeat_interval: float,
    ) -> None:
        self._server = server
        self._token = bytes.fromhex(secrets["token"])
        self._kernel_key = str(secrets["key"])
        self._signature_scheme = str(secrets["signature_scheme"])
        # CurveZMQ keys (Z85) the kernel encrypts its sockets with; absent for a kernel that
        # cannot, which the provisioner allows only when the site says so.
        self._curve_keys = {
            name: str(secrets[name]) for name in CURVE_KEYS if secrets.get(name) is not None
        }
        self._grace_period = grace_period
        self._heartbeat_interval = heartbeat_interval
        self._channel: Channel | None = None
        self._kernel: asyncio.subprocess.Process | None = None
        self._connection: dict[str, Any] | None = None
        self._last_heard = time.monotonic()
        self._finished = asyncio.Event()
        self._exit_code = 0
        self._private_dir = Path(tempfile.mkdtemp(prefix="jupyter-kernel-"))
        self._relay = StreamRelay(lambda: self._channel)

    async def run(self) -> int:
        """Serve until told to stop, the job ends, or the server stays silent too long."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._job_ending, signal.SIGTERM)
        loop.add_signal_handler(signal.SIGINT, self._relay_interrupt)
        loop.add_signal_handler(signal.SIGUSR1, self._walltime_warning)
        tasks = [
            asyncio.create_task(self._serve()),
            asyncio.create_task(self._send_heartbeats()),
            asyncio.create_task(self._watch_server()),
        ]
        await self._finished.wait()
        for task in tasks:
            task.cancel()
        await self._stop_kernel()
        if self._channel is not None:
            self._channel.close()
        # The connection file (with the keys) and any socket a killed kernel left behind.
        shutil.rmtree(self._private_dir, ignore_errors=True)
        return self._exit_code

    def _finish(self, exit_code: int) -> None:
        self._exit_code = exit_code
        self._finished.set()

    # -- the connection ------------------------------------------------------------------

    async def _serve(self) -> None:
        while True:
            try:
                channel = await open_channel(*self._server, self._token)
            except ChannelRefused as error:
                log.error("The server refused this launcher: %s", error)
                self._finish(3)
                return
            except (ChannelClosed, OSError, asyncio.TimeoutError) as error:
                log.info("Cannot reach the server at %s:%s: %s", *self._server, error)
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            self._channel = channel
            self._last_heard = time.monotonic()
            log.info("Connected to the server at %s:%s", *self._server)
            try:
                await channel.send(self._hello())
                while True:
                    message = await channel.receive()
                    self._last_heard = time.monotonic()
                    await self._handle(message)
            except ChannelClosed as error:
                log.warning("Lost the server: %s", error)
            finally:
                channel.close()
                self._channel = None
                self._relay.close_all()

    def _hello(self) -> Message:
        kernel_pid = self._kernel.pid if self._kernel is not None else None
        return {
            "type": "hello",
            "job_id": os.environ.get("SLURM_JOB_ID"),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "job_started_at": process_start_time(),
            "kernel": {"pid": kernel_pid, "connection": self._connection} if kernel_pid else None,
        }

    async def _send(self, message: Message) -> None:
        """Send if connected; what cannot be sent now the server learns from the next hello."""
        channel = self._channel
        if channel is None:
            return
        with contextlib.suppress(ChannelClosed):
            await channel.send(message)

    async def _send_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            await self._send({"type": "ping"})

    async def _watch_server(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self._grace_period / 4))
            silent = time.monotonic() - self._last_heard
            if silent > self._grace_period:
                log.error("No word from the server for %.0f s: ending the job", silent)
                self._finish(1)
                return

    async def _handle(self, message: Message) -> None:
        kind = message["type"]
        if kind == "start":
            # Its own task: the start waits for the kernel to listen, meanwhile we listen on.
            asyncio.create_task(self._start_kernel(message))  # noqa: RUF006 - reports back
        elif kind == "signal":
            self._signal_kernel(int(message["signum"]))
        elif kind == "shutdown":
            log.info("The server ends this kernel's job")
            self._finish(0)
        elif kind == "open":
            await self._open_stream(int(message["stream"]), str(message["port"]))
        elif kind == "data":
            await self._relay.deliver(int(message["stream"]), message["data"])
        elif kind == "close":
            self._relay.close(int(message["stream"]))
        elif kind != "ping":
            log.warning("Ignoring an unknown message: %s", kind)

    async def _open_stream(self, stream: int, port_name: str) -> None:
        """Reverse mode: connect a relayed stream to the kernel's socket on this node."""
        try:
            if not (self._connection and self._kernel) or port_name not in KERNEL_PORTS:
                raise ConnectionRefusedError(port_name)
            reader, writer = await self._connect_kernel(port_name)
        except OSError:
            await self._send({"type": "close", "stream": stream})
            return
        self._relay.attach(stream, reader, writer)

    # -- the kernel ------------------------------------------------------------------------

    async def _start_kernel(self, request: Message) -> None:
        if self._kernel is not None:
            await self._send({"type": "start_failed", "error": "a kernel is already running"})
            return
        assert self._channel is not None  # noqa: S101 - requests only arrive over a channel
        if request.get("reverse"):
            # Unix sockets in our 0700 directory: no other user on this node can connect,
            # and the kernel's connections ride our own.
            endpoints: dict[str, Any] = {
                "transport": "ipc",
                "ip": str(self._private_dir / IPC_NAME),
                **IPC_PORTS,
            }
        else:  # the address the server reached us from
            ip = self._channel.local_ip
            endpoints = {"transport": "tcp", "ip": ip, **free_ports(ip, request.get("ports") or {})}
        connection = {
            **endpoints,
            "signature_scheme": self._signature_scheme,
            "kernel_name": request.get("kernel_name", ""),
        }
        connection_file = self._private_dir / "kernel.json"
        write_private_json(
            connection_file, {**connection, "key": self._kernel_key, **self._curve_keys}
        )
        argv = [arg.replace("{connection_file}", str(connection_file)) for arg in request["argv"]]
        env = {**os.environ, **request.get("env", {})}
        for name in request.get("unset", []):
            env.pop(name, None)
        env["JPY_PARENT_PID"] = str(os.getpid())  # ipykernel exits if its launcher dies
        try:
            self._kernel = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=request.get("cwd") or None,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,  # signals reach the kernel's own children too
            )
        except OSError as error:
            log.error("Cannot start the kernel %s: %s", argv, error)
            await self._send({"type": "start_failed", "error": f"{argv[0]}: {error}"})
            return
        self._connection = connection
        if self._curve_keys and (problem := await self._encryption_problem(self._kernel)):
            log.error("%s", problem)
            await self._stop_kernel()
            self._kernel = None
            await self._send({"type": "start_failed", "error": problem})
            return
        log.info("Kernel started: pid %s, %s", self._kernel.pid, argv)
        await self._send(
            {"type": "kernel_started", "pid": self._kernel.pid, "connection": connection}
        )
        asyncio.create_task(self._report_exit(self._kernel))  # noqa: RUF006 - ends with the kernel

    async def _encryption_problem(self, kernel: asyncio.subprocess.Process) -> str | None:
        """Once the kernel listens: why it does not encrypt as it was asked to, if it does not."""
        assert self._connection is not None  # noqa: S101 - set before the kernel starts
        deadline = time.monotonic() + KERNEL_LISTEN_TIMEOUT
        while kernel.returncode is None and time.monotonic() < deadline:
            try:
                mechanism = await socket_mechanism(
                    *await self._connect_kernel("shell_port"), timeout=KERNEL_STOP_WAIT
                )
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                await asyncio.sleep(0.05)  # not listening yet
                continue
            if mechanism == "CURVE":
                return None
            return (
                f"The kernel does not encrypt its traffic (it speaks ZMQ's {mechanism}): it "
                "ignored its CurveZMQ keys, so it was stopped. The kernel on the compute node "
                "is older than its kernelspec says (ipykernel 7.3 or later encrypts): install "
                "a newer one where c.SlurmProvisioner.python runs."
            )
        if kernel.returncode is not None:
            return f"The kernel exited with code {kernel.returncode} before it listened."
        return f"The kernel did not listen within {KERNEL_LISTEN_TIMEOUT:g} s."

    async def _connect_kernel(
        self, port_name: str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to one of the kernel's sockets on this node."""
        assert self._connection is not None  # noqa: S101
        port = int(self._connection[port_name])
        if self._connection["transport"] == "ipc":
            return await asyncio.open_unix_connection(ipc_path(self._connection["ip"], port))
        return await asyncio.open_connection(self._connection["ip"], port)

    async def _report_exit(self, kernel: asyncio.subprocess.Process) -> None:
        code = await kernel.wait()
        if self._kernel is kernel:
            self._kernel = None
        log.info("Kernel exited with %s", code)
        await self._send({"type": "kernel_exited", "code": code})

    def _signal_kernel(self, signum: int) -> None:
        kernel = self._kernel
        if kernel is None or kernel.returncode is not None:
            return
        try:
            os.killpg(kernel.pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError:
            kernel.send_signal(signum)

    async def _stop_kernel(self) -> None:
        kernel = self._kernel
        if kernel is None or kernel.returncode is not None:
            return
        self._signal_kernel(signal.SIGTERM)
        try:
            await asyncio.wait_for(kernel.wait(), KERNEL_STOP_WAIT)
        except asyncio.TimeoutError:
            self._signal_kernel(signal.SIGKILL)
            await kernel.wait()

    # -- signals from Slurm ---------------------------------------------------------------

    def _job_ending(self, signum: int) -> None:
        """Slurm is ending the job (scancel, time limit, preemption): say so, then go."""
        log.warning("Slurm sent %s: the job is ending", signal.Signals(signum).name)

        async def tell_and_finish() -> None:
            await self._send({"type": "job_ending", "signal": signum})
            self._finish(128 + signum)

        asyncio.create_task(tell_and_finish())  # noqa: RUF006 - the launcher ends with it

    def _relay_interrupt(self) -> None:
        """``scancel --batch --signal=INT`` interrupts the kernel, as the server's request does."""
        self._signal_kernel(signal.SIGINT)

    def _walltime_warning(self) -> None:
        log.warning("The job's time limit is near")
        asyncio.create_task(self._send({"type": "walltime_warning"}))  # noqa: RUF006


def free_ports(ip: str, preferred: dict[str, int]) -> dict[str, int]:
    """Five ports free on ``ip``, the ``preferred`` ones where they still are (a restart in
    place keeps the kernel's ports, so connected clients simply reconnect)."""
    sockets = []
    try:
        for name in KERNEL_PORTS:
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sockets.append(probe)
            try:
                probe.bind((ip, int(preferred.get(name, 0))))
            except OSError:
                probe.bind((ip, 0))
        return {
            name: probe.getsockname()[1] for name, probe in zip(KERNEL_PORTS, sockets, strict=True)
        }
    finally:
        for probe in sockets:
            probe.close()


def process_start_time() -> float:
    """When this process began (epoch seconds): the batch shell that exec'd us, so the job's
    start, before Python's imports. From Linux's /proc (10 ms steps); now if unavailable."""
    try:
        # Field 22 of /proc/self/stat (after the parenthesised command name): clock ticks
        # between boot and the process's start.
        ticks = int(Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time()
    return time.time() - age


def write_private_json(path: Path, content: dict[str, Any]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(content, file)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jupyterlab_hpc.kernels.launcher")
    parser.add_argument("--server", required=True, help="HOST:PORT the server listens on")
    parser.add_argument("--handoff", required=True, type=Path, help="the private secrets file")
    parser.add_argument("--grace-period", type=float, default=60.0)
    parser.add_argument("--heartbeat", type=float, default=5.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s launcher %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    secrets = read_secrets_once(arguments.handoff)
    host, _, port = arguments.server.rpartition(":")
    launcher = Launcher(
        (host, int(port)),
        secrets,
        grace_period=arguments.grace_period,
        heartbeat_interval=arguments.heartbeat,
    )
    return asyncio.run(launcher.run())


if __name__ == "__main__":
    sys.exit(main())
