"""Notebook sessions that outlive their server, for the remote kernels its successor takes over.

jupyter_server keeps its sessions (which notebook talks to which kernel) in memory unless
``c.SessionManager.database_filepath`` names a file; after a restart a notebook would find no
session, and Lab would start a new local kernel for it. With ``c.SlurmProvisioner.reattach``
on (and the site not having chosen a file itself) the sessions go to a SQLite file private
to the user, one per server: per root directory and base URL (a JupyterHub user's named
server has its own), in ``jupyterlab-hpc-sessions/`` of Jupyter's runtime directory. A
second live server with the same root and URL keeps its sessions in memory, as before.

jupyter_server drops a stored session whose kernel it does not have, at the first request
that reads it. A kernel being taken over is not the kernel manager's yet, so until the
take-over has ended the check waits, for those kernels only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

from jupyter_core.utils import ensure_async

# Longest a session check waits for a take-over (the launcher's call and kernel_info).
TAKE_OVER_WAIT = 90.0


def keep_sessions_on_disk(serverapp: Any, log: Any) -> IO[str] | None:
    """Point the session manager at this server's file, if it keeps sessions in memory and
    no other live server uses that file. The lock held on it while this server runs (keep
    the returned file open), or None when the sessions stay where they were."""
    manager = serverapp.session_manager
    if manager.database_filepath != ":memory:":
        return None  # the site chose where sessions go
    directory = Path(serverapp.runtime_dir) / "jupyterlab-hpc-sessions"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = hashlib.sha256(f"{serverapp.root_dir}\0{serverapp.base_url}".encode()).hexdigest()
    database = directory / f"{name[:32]}.db"
    lock = (directory / f"{name[:32]}.lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        log.info(
            "Another Jupyter server with this root and URL keeps its sessions in %s: this "
            "one keeps its own in memory",
            database,
        )
        return None
    # sqlite makes the file with the umask's mode: the user's alone from the start.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    manager.database_filepath = str(database)
    return lock


def hold_culling_of(
    session_manager: Any, kernel_ids: Collection[str], settled: asyncio.Event
) -> None:
    """Until ``settled`` (or TAKE_OVER_WAIT), the sessions of ``kernel_ids`` are not taken
    for sessions of dead kernels: they are being taken over."""
    culled = session_manager.kernel_culled

    async def kernel_culled(kernel_id: str) -> bool:
        if kernel_id in kernel_ids and not settled.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(settled.wait(), TAKE_OVER_WAIT)
        return bool(await ensure_async(culled(kernel_id)))

    session_manager.kernel_culled = kernel_culled
