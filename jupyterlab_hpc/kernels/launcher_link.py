"""The server's end of one kernel launcher's dial-out connection.

The provisioner opens a listening socket per kernel on an address the compute nodes can
reach; only a launcher that proves it holds this kernel's token gets through. A launcher that
loses the connection dials again, and the newest authenticated connection wins.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import functools
import itertools
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyterlab_hpc.kernels.channel import (
    Channel,
    ChannelClosed,
    ChannelRefused,
    Message,
    accept_channel,
)
from jupyterlab_hpc.kernels.relay import IPC_NAME, IPC_PORTS, StreamRelay, ipc_path

# Heartbeats one side may miss before the other counts the connection as lost.
MISSED_HEARTBEATS = 3
# Unauthenticated connections to the launcher port held at once; a new one beyond this closes
# the oldest. Not the newest: a stranger who keeps the slots full cannot lock the launcher
# out, since its own handshake takes milliseconds.
MAX_HANDSHAKES = 16
# Relayed connections per kernel: each client of the kernel (a Lab tab, the manager's own)
# opens about five; far more means something loops.
MAX_STREAMS = 128


class LaunchFailed(RuntimeError):
    """The launcher could not start the kernel process; the message says why."""


class LauncherLink:
    """Listens for the launcher, then carries requests to it and its reports back."""

    def __init__(
        self,
        token: bytes,
        *,
        heartbeat_interval: float,
        log: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self._token = token
        self._heartbeat_interval = heartbeat_interval
        self._log = log
        self._server: asyncio.Server | None = None
        self._channel: Channel | None = None
        self._heartbeats: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._start_reply: asyncio.Future[Message] | None = None
        self._last_heard = 0.0
        self.address: tuple[str, int] = ("", 0)
        self.node: str | None = None
        self.job_id: str | None = None  # the launcher's SLURM_JOB_ID
        self.kernel_pid: int | None = None
        # The kernel's connection on the node (no key) as the launcher last reported it.
        self.kernel_connection: dict[str, Any] | None = None
        self.kernel_exit_code: int | None = None
        self.job_ending = False
        self.walltime_warning_at: float | None = None
        self.job_started_at: float | None = None  # epoch seconds, as the launcher saw it
        self.connected_at: float | None = None
        # Reverse mode: local sockets standing in for the kernel's, streams over the channel.
        self._relay = StreamRelay(lambda: self._channel)
        self._relay_dir: Path | None = None
        self._relay_servers: dict[str, asyncio.Server] = {}
        self._streams = itertools.count(1)
        self._handshakes: collections.deque[asyncio.StreamWriter] = collections.deque()

    async def listen(self, ip: str, ports: range | None = None) -> None:
        """Listen on ``ip``, on a port the system picks or the first free one of ``ports``
        (a site's firewall may let the nodes reach only those)."""
        for port in ports or (0,):
            try:
                self._server = await asyncio.start_server(self._accept, host=ip, port=port)
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
        else:
            assert ports is not None  # noqa: S101 - port 0 is never in use
            msg = f"Every launcher port {ports.start}-{ports.stop - 1} on {ip} is in use"
            raise OSError(errno.EADDRINUSE, msg)
        self.address = (ip, self._server.sockets[0].getsockname()[1])
        self._heartbeats = asyncio.create_task(self._send_heartbeats())

    @property
    def token(self) -> bytes:
        """The launcher's secret: a successor server needs it to take the kernel over."""
        return self._token

    @property
    def connected(self) -> bool:
        return self._channel is not None and not self.silent

    @property
    def silent(self) -> bool:
        """Heard nothing for several heartbeats: a dead node sends no FIN."""
        return self.silent_for > MISSED_HEARTBEATS * self._heartbeat_interval

    @property
    def silent_for(self) -> float:
        """Seconds since the launcher last said anything."""
        return time.monotonic() - self._last_heard

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def wait_disconnected(self, timeout: float) -> bool:
        """True if the launcher hung up within ``timeout`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._disconnected.wait(), timeout)
        return self._disconnected.is_set()

    async def start_kernel(self, request: Message) -> Message:
        """Ask the launcher to start a kernel process; its ``kernel_started`` report."""
        self._start_reply = asyncio.get_running_loop().create_future()
        self.kernel_exit_code = None
        await self.send(request)
        try:
            return await self._start_reply
        finally:
            self._start_reply = None

    async def relay_endpoints(self) -> dict[str, Any]:
        """Reverse mode: Unix sockets in a private directory of this host that lead to the
        kernel's, as connection info (ZMQ's ipc transport). The same paths across restarts in
        place, so the manager's sockets simply reconnect; one that is gone (KernelManager
        removes ipc files when a kernel process ends) is made again."""
        if self._relay_dir is None:
            self._relay_dir = Path(tempfile.mkdtemp(prefix="jupyterlab-hpc-relay-"))  # 0700
        prefix = str(self._relay_dir / IPC_NAME)
        for name, number in IPC_PORTS.items():
            path = ipc_path(prefix, number)
            if name in self._relay_servers and Path(path).exists():
                continue
            if name in self._relay_servers:
                self._relay_servers.pop(name).close()
            self._relay_servers[name] = await asyncio.start_unix_server(
                functools.partial(self._accept_local, name), path=path
            )
        return {"transport": "ipc", "ip": prefix, **IPC_PORTS}

    async def send(self, message: Message) -> None:
        if self._channel is None:
            msg = "the kernel's launcher is not connected"
            raise ChannelClosed(msg)
        await self._channel.send(message)

    async def close(self) -> None:
        if self._heartbeats is not None:
            self._heartbeats.cancel()
        if self._server is not None:
            self._server.close()
        for server in self._relay_servers.values():
            server.close()
        self._relay.close_all()
        if self._relay_dir is not None:
            shutil.rmtree(self._relay_dir, ignore_errors=True)
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Anyone on the network can connect here; only the launcher gets past the handshake.
        # Bound what strangers can hold open, so they cannot exhaust the server's files.
        if len(self._handshakes) >= MAX_HANDSHAKES:
            self._handshakes.popleft().close()
        self._handshakes.append(writer)
        try:
            channel = await accept_channel(reader, writer, self._token)
        except ChannelRefused as error:
            self._log.warning("Refused a connection to a kernel's launcher port: %s", error)
            return
        finally:
            with contextlib.suppress(ValueError):  # evicted already
                self._handshakes.remove(writer)
        if self._channel is not None:
            self._channel.close()  # the launcher dialled again: the old connection is dead
        self._channel = channel
        self._last_heard = time.monotonic()
        self._disconnected.clear()
        try:
            while True:
                message = await channel.receive()
                self._last_heard = time.monotonic()
                if message["type"] == "data":
                    await self._relay.deliver(message["stream"], message["data"])
                elif message["type"] == "close":
                    self._relay.close(message["stream"])
                else:
                    self._handle(message)
        except ChannelRefused as error:
            self._log.error("Dropped the kernel launcher's connection: %s", error)
        except ChannelClosed:
            pass
        finally:
            channel.close()
            if self._channel is channel:
                self._channel = None
                self._connected.clear()
                self._disconnected.set()
                self._relay.close_all()
                self._fail_start("the kernel's launcher disconnected")

    async def _accept_local(
        self, port_name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """A connection to one of the relay sockets: a new stream to that kernel channel."""
        if self._relay.stream_count >= MAX_STREAMS:
            self._log.warning(
                "Kernel on %s: refused a relay connection, %d streams are open already",
                self.node,
                MAX_STREAMS,
            )
            writer.close()
            return
        stream = next(self._streams)
        try:
            await self.send({"type": "open", "stream": stream, "port": port_name})
        except ChannelClosed:
            writer.close()  # no launcher now; ZMQ will try again
            return
        self._relay.attach(stream, reader, writer)

    def _handle(self, message: Message) -> None:
        kind = message["type"]
        if kind == "hello":
            self.node = message.get("hostname")
            self.job_id = message.get("job_id")
            self.job_started_at = message.get("job_started_at")
            self.connected_at = time.time()
            kernel = message.get("kernel")
            if kernel is None and self.kernel_pid is not None and self.kernel_exit_code is None:
                self.kernel_exit_code = -1  # it exited while we were apart; its code is lost
            self.kernel_pid = kernel["pid"] if kernel else None
            self.kernel_connection = kernel["connection"] if kernel else None
            self._connected.set()
        elif kind == "kernel_started":
            self.kernel_pid = message["pid"]
            self.kernel_connection = message["connection"]
            if self._start_reply is not None and not self._start_reply.done():
                self._start_reply.set_result(message)
        elif kind == "start_failed":
            self._fail_start(str(message.get("error")))
        elif kind == "kernel_exited":
            self.kernel_exit_code = int(message["code"])
        elif kind == "job_ending":
            self.job_ending = True
        elif kind == "walltime_warning":
            self.walltime_warning_at = time.time()
            self._log.warning("Kernel on %s: its Slurm job's time limit is near", self.node)

    def _fail_start(self, reason: str) -> None:
        if self._start_reply is not None and not self._start_reply.done():
            self._start_reply.set_exception(LaunchFailed(reason))

    async def _send_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            if self._channel is not None:
                with contextlib.suppress(ChannelClosed):
                    await self._channel.send({"type": "ping"})
