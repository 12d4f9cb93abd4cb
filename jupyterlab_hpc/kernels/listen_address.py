"""Which local address the compute nodes can dial: the one facing them.

The interface this host uses towards a compute node is the best guess for one the nodes can
reach us on (a login node's cluster-side interface, not its public one).
"""

from __future__ import annotations

import asyncio
import socket

# Any port: the probe sends nothing, it only makes the kernel choose a route.
_PROBE_PORT = 9


async def address_towards(host: str) -> str:
    """This host's IPv4 address on the route to ``host``; raises OSError if there is none."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, _PROBE_PORT, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    # A UDP "connection" sends nothing; it only makes the kernel pick the route and source.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(infos[0][4])
        return str(probe.getsockname()[0])
