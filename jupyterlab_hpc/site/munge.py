"""MUNGE, Slurm's own credential service, proves to the site service which user a per-user
server runs as: the server encodes a credential as its user (``munge``), the service decodes
it (``unmunge``) and reads the uid munged vouches for. munged refuses a credential decoded
twice (replay) or older than its time to live (5 minutes by default), so a credential seen in
transit is worth nothing. No secret of ours is involved: every Slurm host has munged and the
cluster's key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from jupyterlab_hpc.slurm.errors import SlurmError
from jupyterlab_hpc.slurm.runner import CommandRunner

# unmunge's metadata line for the credential's user: "UID:  alice (1001)".
_STATUS_LINE = re.compile(r"^STATUS:\s+(?P<why>.+?)\s*$", re.MULTILINE)
_UID_LINE = re.compile(r"^UID:\s+\S+\s+\((?P<uid>\d+)\)\s*$", re.MULTILINE)


# unmunge processes at once: a flood of session requests waits here instead of forking
# without bound, and the service's reads, which need no process, go on meanwhile.
_DECODING = asyncio.Semaphore(4)


class CredentialRefused(Exception):
    """A MUNGE credential munged would not vouch for; the message says why (munged's words)."""


async def new_credential(command_prefix: Sequence[str] = (), timeout: float = 10.0) -> str:
    """A fresh credential for whoever ``command_prefix`` runs commands as (the server's user)."""
    runner = CommandRunner(prefix=command_prefix, timeout=timeout)
    return (await runner.run(["munge", "--no-input"])).strip()


async def uid_of(credential: str, command_prefix: Sequence[str] = (), timeout: float = 10.0) -> int:
    """The uid a credential was encoded by; CredentialRefused if munged does not vouch for it.
    ``command_prefix`` is the service's own: the munged of the cluster's Slurm hosts."""
    runner = CommandRunner(prefix=command_prefix, timeout=timeout)
    try:
        async with _DECODING:
            metadata = await runner.run(
                ["unmunge", "--output=/dev/null"], stdin=credential.encode()
            )
    except SlurmError as error:
        # On a refusal unmunge prints its metadata too: its STATUS line says why.
        status = _STATUS_LINE.search(str(error))
        raise CredentialRefused(status["why"] if status else str(error)) from error
    match = _UID_LINE.search(metadata)
    if match is None:
        msg = "unmunge named no uid"
        raise CredentialRefused(msg)
    return int(match["uid"])
