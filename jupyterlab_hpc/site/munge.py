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
# munge and unmunge processes at once, for proofs of users and for the service's proofs of
# identity apart: a flood of requests of one kind waits here instead of forking without
# bound, and neither the other kind nor the service's reads, which need none, wait with it.
_DECODING = asyncio.Semaphore(4)
_ENCODING = asyncio.Semaphore(2)


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
    async with _ENCODING:
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
        async with _DECODING:
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
    """The uid a per-user server's proof of its user was encoded by; CredentialRefused if
    munged does not vouch for it, or if it carries a payload: a proof of user carries none,
    and the one credential anybody can get from the service, its own proof of identity,
    carries the challenge (it must never pass for a proof that its user is the service's)."""
    decoded = await decode(credential, command_prefix, timeout)
    if decoded.payload:
        msg = "a proof of user carries no payload (this is another kind of MUNGE credential)"
        raise CredentialRefused(msg)
    return decoded.uid
