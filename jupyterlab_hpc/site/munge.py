"""MUNGE, Slurm's own credential service, proves who runs a process, both ways:

- a per-user server proves its user to the site service: it encodes a credential as its user
  (``munge``), the service decodes it (``unmunge``) and reads the uid munged vouches for;
- the site service proves it runs as the site's account before a server sends it anything:
  it encodes the server's random challenge as its own user, the server decodes it.

munged refuses a credential decoded twice (replay) or older than its time to live (5 minutes
by default), so a credential seen in transit is worth nothing. No secret of ours is involved:
every Slurm host has munged and the cluster's key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from jupyterlab_hpc.slurm.errors import SlurmError
from jupyterlab_hpc.slurm.runner import CommandRunner

# unmunge's metadata, then an empty line, then the payload.
_STATUS_LINE = re.compile(r"^STATUS:\s+(?P<why>.+?)\s*$", re.MULTILINE)
# The credential's user: "UID:  alice (1001)".
_UID_LINE = re.compile(r"^UID:\s+\S+\s+\((?P<uid>\d+)\)\s*$", re.MULTILINE)
# munge/unmunge processes at once: a flood of session or identity requests waits here
# instead of forking without bound, and the service's reads, which need none, go on meanwhile.
_PROCESSES = asyncio.Semaphore(4)


class CredentialRefused(Exception):
    """A MUNGE credential munged would not vouch for; the message says why (munged's words)."""


@dataclass(frozen=True)
class Decoded:
    uid: int
    payload: str


def identity_payload(challenge: str) -> str:
    """What the site service's proof of identity carries: the per-user server's challenge."""
    return f"jupyterlab-hpc site service: {challenge}"


async def new_credential(
    command_prefix: Sequence[str] = (), timeout: float = 10.0, payload: str | None = None
) -> str:
    """A fresh credential for whoever ``command_prefix`` runs commands as, carrying
    ``payload`` (none by default)."""
    runner = CommandRunner(prefix=command_prefix, timeout=timeout)
    async with _PROCESSES:
        if payload is None:
            return (await runner.run(["munge", "--no-input"])).strip()
        return (await runner.run(["munge"], stdin=payload.encode())).strip()


async def decode(
    credential: str, command_prefix: Sequence[str] = (), timeout: float = 10.0
) -> Decoded:
    """Who encoded a credential, and its payload; CredentialRefused if munged does not vouch
    for it. ``command_prefix`` reaches the munged of the cluster's Slurm hosts."""
    runner = CommandRunner(prefix=command_prefix, timeout=timeout)
    try:
        async with _PROCESSES:
            output = await runner.run(["unmunge"], stdin=credential.encode())
    except SlurmError as error:
        # On a refusal unmunge prints its metadata too: its STATUS line says why.
        status = _STATUS_LINE.search(str(error))
        raise CredentialRefused(status["why"] if status else str(error)) from error
    metadata, _, payload = output.partition("\n\n")
    match = _UID_LINE.search(metadata)
    if match is None:
        msg = "unmunge named no uid"
        raise CredentialRefused(msg)
    return Decoded(uid=int(match["uid"]), payload=payload)


async def uid_of(credential: str, command_prefix: Sequence[str] = (), timeout: float = 10.0) -> int:
    """The uid a credential was encoded by; CredentialRefused if munged does not vouch for it."""
    return (await decode(credential, command_prefix, timeout)).uid
