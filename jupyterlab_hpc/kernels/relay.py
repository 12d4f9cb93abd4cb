"""Reverse mode: the kernel's ZMQ connections, carried inside the launcher's own connection.

Where compute nodes accept no inbound connections, the kernel listens on Unix sockets in the
launcher's private directory on the node, and the server listens on Unix sockets in a private
directory of its own, one per kernel channel (shell, iopub, stdin, control, hb): both 0700, so
no other user of either host can connect (ZMQ's ``ipc`` transport, paths ``<prefix>-<n>``).
Each connection made to one of the server's becomes a numbered stream: an "open" message
names the kernel channel it is for, the launcher connects to that socket on the node, and both
ends forward bytes as data frames until either side closes. The bytes are CurveZMQ's, so
encrypted end to end between the server's ZMQ sockets and the kernel's. ZMQ reconnects by
itself when a connection drops (a kernel restart in place, a launcher that dialled again).

Standard library only: the launcher imports this on every kernel start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from jupyterlab_hpc.kernels.channel import Channel, ChannelClosed

READ_SIZE = 64 * 1024
KERNEL_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# With the ipc transport a "port" only numbers the socket files: fixed ones, kept on restarts.
IPC_NAME = "kernel"
IPC_PORTS = {name: number for number, name in enumerate(KERNEL_PORTS, start=1)}


def ipc_path(prefix: str, port: int) -> str:
    """The socket file of an ipc endpoint, as ZMQ and jupyter_client name it."""
    return f"{prefix}-{port}"


class StreamRelay:
    """One end's streams: local TCP connections paired with numbered streams on the channel."""

    def __init__(self, current_channel: Callable[[], Channel | None]) -> None:
        self._current_channel = current_channel
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._forwarders: set[asyncio.Task[None]] = set()

    @property
    def stream_count(self) -> int:
        return len(self._writers)

    def attach(
        self, stream: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Forward what ``reader`` yields as ``stream``; what arrives for it goes to ``writer``."""
        self._writers[stream] = writer
        forwarder = asyncio.create_task(self._forward(stream, reader))
        self._forwarders.add(forwarder)
        forwarder.add_done_callback(self._forwarders.discard)

    async def deliver(self, stream: int, data: bytes) -> None:
        """Bytes the other end read for ``stream``; waits while the local reader lags behind."""
        writer = self._writers.get(stream)
        if writer is None:
            return  # closed here already; the other end learns it from our close
        try:
            writer.write(data)
            await writer.drain()
        except ConnectionError:
            await self._hang_up(stream)

    def close(self, stream: int) -> None:
        """The other end closed ``stream``."""
        writer = self._writers.pop(stream, None)
        if writer is not None:
            writer.close()

    def close_all(self) -> None:
        """The channel is gone: every stream with it (ZMQ will connect again)."""
        for stream in list(self._writers):
            self.close(stream)

    async def _forward(self, stream: int, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                channel = self._current_channel()
                if channel is None or stream not in self._writers:
                    break
                await channel.send_data(stream, data)
        except (ConnectionError, ChannelClosed):
            pass
        await self._hang_up(stream)

    async def _hang_up(self, stream: int) -> None:
        """Close ``stream`` from this end and tell the other, unless it closed it first."""
        writer = self._writers.pop(stream, None)
        if writer is None:
            return
        writer.close()
        channel = self._current_channel()
        if channel is not None:
            with contextlib.suppress(ChannelClosed):
                await channel.send({"type": "close", "stream": stream})
