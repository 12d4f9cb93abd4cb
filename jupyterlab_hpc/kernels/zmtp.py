"""Which security mechanism a ZMQ socket speaks, read from its ZMTP 3 greeting.

A kernel that is handed CurveZMQ keys but does not know them (ipykernel before 7.3) binds
plain sockets, and the server's encrypted ones then wait for it forever. The launcher asks
the kernel's socket instead: every ZMTP 3 peer opens with a 64-byte greeting that names its
mechanism ("NULL", "PLAIN", "CURVE"), before any message. Standard library only: the launcher
imports this on every kernel start.
"""

from __future__ import annotations

import asyncio

# The start of our greeting: signature and major version 3. libzmq answers it with its whole
# greeting; had we named a mechanism other than its own, it would hang up after its signature.
_OPENING = b"\xff" + bytes(8) + b"\x7f" + b"\x03"
_GREETING_SIZE = 64
_MECHANISM = slice(12, 32)  # after signature and version, padded with NUL to 20 bytes


async def socket_mechanism(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
) -> str:
    """The mechanism the ZMQ socket at the other end of a fresh connection speaks."""
    try:
        writer.write(_OPENING)
        greeting = await asyncio.wait_for(reader.readexactly(_GREETING_SIZE), timeout)
    finally:
        writer.close()
    if not greeting.startswith(b"\xff") or greeting[9:10] != b"\x7f":
        msg = "not a ZMTP 3 greeting"
        raise ConnectionError(msg)
    return greeting[_MECHANISM].rstrip(b"\x00").decode("ascii", "replace")
