"""Which local address the compute nodes can dial: the one facing the Slurm controller.

Nodes always reach slurmctld, so the interface this host uses towards it is the best guess
for one the nodes can reach us on (a login node's cluster-side interface, not its public one).
"""

from __future__ import annotations

import asyncio
import re
import socket

from jupyterlab_hpc.slurm.commands.runner import CommandRunner

# "SlurmctldHost[0]        = vm(10.201.0.1)" or "= ctl01"
_CONTROLLER = re.compile(r"^SlurmctldHost\[0\]\s*=\s*([^\s(]+)(?:\(([^)]+)\))?", re.MULTILINE)
_SLURMCTLD_PORT = re.compile(r"^SlurmctldPort\s*=\s*(\d+)", re.MULTILINE)


async def address_towards_controller(runner: CommandRunner) -> str:
    """This host's IP on the route to slurmctld; raises OSError or SlurmError if unknown."""
    config = await runner.run(["scontrol", "show", "config"])
    controller = _CONTROLLER.search(config)
    if controller is None:
        msg = "scontrol show config names no SlurmctldHost"
        raise OSError(msg)
    host = controller.group(2) or controller.group(1)
    port_match = _SLURMCTLD_PORT.search(config)
    port = int(port_match.group(1)) if port_match else 6817
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    # A UDP "connection" sends nothing; it only makes the kernel pick the route and source.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(infos[0][4])
        return str(probe.getsockname()[0])
