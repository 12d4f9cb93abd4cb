"""The launcher's dial-out connection to the server: framed messages, each authenticated.

Messages are JSON objects; in reverse mode the bytes of the kernel's TCP connections travel
between them as binary "data" frames. Both ends know a per-kernel token that never crosses
the wire. The handshake proves knowledge of it in both directions and derives a session key
from two fresh nonces; every later frame carries an HMAC over its direction, its sequence
number and its payload, so nobody without the token can forge, replay or reorder frames.
Frames are not encrypted: no secret is sent over this channel (the kernel's key travels in a
private file, see ``handoff``), and kernel messages are signed with that key, as over ZMQ.

Standard library only: the launcher imports this on every kernel start.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import struct
from typing import Any

PROTOCOL = b"jupyterlab-hpc-kernel/1\n"
_NONCE = 32
_TAG = hashlib.sha256().digest_size
_LENGTH = struct.Struct("!I")
# A payload is a JSON object, or this marker, a stream number and raw bytes.
_DATA = b"\x00"
_STREAM = struct.Struct("!I")
MAX_FRAME = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0

Message = dict[str, Any]


class ChannelClosed(Exception):
    """The peer closed the connection, or it broke."""


class ChannelRefused(ChannelClosed):
    """The peer failed authentication or spoke another protocol."""


class Channel:
    """An authenticated, ordered message stream over one TCP connection."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session_key: bytes,
        *,
        outgoing: bytes,
        incoming: bytes,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._key = session_key
        self._outgoing = outgoing
        self._incoming = incoming
        self._sent = 0
        self._received = 0

    @property
    def local_ip(self) -> str:
        return str(self._writer.get_extra_info("sockname")[0])

    async def send(self, message: Message) -> None:
        await self._send_payload(json.dumps(message, separators=(",", ":")).encode())

    async def send_data(self, stream: int, data: bytes) -> None:
        """Bytes of a relayed TCP stream (reverse mode); received as a "data" message."""
        await self._send_payload(_DATA + _STREAM.pack(stream) + data)

    async def _send_payload(self, payload: bytes) -> None:
        tag = self._tag(self._outgoing, self._sent, payload)
        self._sent += 1
        try:
            self._writer.write(_LENGTH.pack(len(tag) + len(payload)) + tag + payload)
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as error:
            raise ChannelClosed(str(error)) from error

    async def receive(self) -> Message:
        try:
            (length,) = _LENGTH.unpack(await self._reader.readexactly(_LENGTH.size))
            if not _TAG <= length <= MAX_FRAME:
                msg = f"frame of {length} bytes"
                raise ChannelRefused(msg)
            frame = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            raise ChannelClosed(str(error) or "connection closed") from error
        tag, payload = frame[:_TAG], frame[_TAG:]
        if not hmac.compare_digest(tag, self._tag(self._incoming, self._received, payload)):
            msg = "frame failed authentication"
            raise ChannelRefused(msg)
        self._received += 1
        if payload.startswith(_DATA):
            (stream,) = _STREAM.unpack_from(payload, len(_DATA))
            return {"type": "data", "stream": stream, "data": payload[len(_DATA) + _STREAM.size :]}
        message = json.loads(payload)
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            msg = "frame is not a typed message"
            raise ChannelRefused(msg)
        return message

    def close(self) -> None:
        self._writer.close()

    def _tag(self, direction: bytes, sequence: int, payload: bytes) -> bytes:
        header = direction + sequence.to_bytes(8, "big")
        return hmac.digest(self._key, header + payload, "sha256")


async def open_channel(host: str, port: int, token: bytes) -> Channel:
    """Dial the server (launcher side) and prove we hold ``token``."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), HANDSHAKE_TIMEOUT)
    try:
        launcher_nonce = secrets.token_bytes(_NONCE)
        writer.write(PROTOCOL + launcher_nonce)
        reply = await asyncio.wait_for(reader.readexactly(_NONCE + _TAG), HANDSHAKE_TIMEOUT)
        server_nonce, server_proof = reply[:_NONCE], reply[_NONCE:]
        if not hmac.compare_digest(
            server_proof, _proof(token, b"server", launcher_nonce, server_nonce)
        ):
            msg = "the server does not hold this kernel's token"
            raise ChannelRefused(msg)
        writer.write(_proof(token, b"launcher", launcher_nonce, server_nonce))
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as error:
        writer.close()
        raise ChannelClosed(str(error) or "handshake interrupted") from error
    except ChannelRefused:
        writer.close()
        raise
    key = _proof(token, b"session", launcher_nonce, server_nonce)
    return Channel(reader, writer, key, outgoing=b"L", incoming=b"S")


async def accept_channel(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: bytes
) -> Channel:
    """Authenticate a launcher that dialled in (server side); ChannelRefused if it cannot."""
    try:
        hello = await asyncio.wait_for(
            reader.readexactly(len(PROTOCOL) + _NONCE), HANDSHAKE_TIMEOUT
        )
        if not hello.startswith(PROTOCOL):
            msg = "not a jupyterlab-hpc kernel launcher"
            raise ChannelRefused(msg)
        launcher_nonce = hello[len(PROTOCOL) :]
        server_nonce = secrets.token_bytes(_NONCE)
        writer.write(server_nonce + _proof(token, b"server", launcher_nonce, server_nonce))
        proof = await asyncio.wait_for(reader.readexactly(_TAG), HANDSHAKE_TIMEOUT)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as error:
        writer.close()
        raise ChannelRefused(str(error) or "handshake interrupted") from error
    except ChannelRefused:
        writer.close()
        raise
    if not hmac.compare_digest(proof, _proof(token, b"launcher", launcher_nonce, server_nonce)):
        writer.close()
        msg = "the launcher does not hold this kernel's token"
        raise ChannelRefused(msg)
    key = _proof(token, b"session", launcher_nonce, server_nonce)
    return Channel(reader, writer, key, outgoing=b"S", incoming=b"L")


def _proof(token: bytes, role: bytes, launcher_nonce: bytes, server_nonce: bytes) -> bytes:
    return hmac.digest(token, role + launcher_nonce + server_nonce, "sha256")
