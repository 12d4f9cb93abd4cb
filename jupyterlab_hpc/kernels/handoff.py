"""The kernel's secrets on their way into the job: a file only the user can read, read once.

The provisioner writes the channel token, the kernel's HMAC key and its CurveZMQ keys to
``~/.jupyterlab-hpc/kernels/<kernel id>.json`` (directory 0700, file 0600, created
exclusively); the launcher reads it and deletes it before it does anything else. The jobs'
output goes to the same private directory (``kernel-<job id>.log``, removed when a kernel
ends cleanly, kept when it died or failed to start). Nothing
secret goes into the batch script, the job's environment, its command line, name or comment:
Slurm stores those and shows them to other users and to admins.

When the server reaches Slurm through a command prefix (``ssh login01``, ``runuser -u alice
--``) the file is written through the same prefix, as the user Slurm runs the job as and on
the filesystem the compute nodes share, by running this file *by path*
(``python -I handoff.py write NAME``): standard library only, no package import, so it costs
milliseconds. The launcher's zip application (launcher_app.py) goes the same way.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
import sys
from pathlib import Path
from typing import Any

DIRECTORY = Path(".jupyterlab-hpc") / "kernels"
# The kernel's CurveZMQ key pair (Z85 text), as jupyter_client names them in a connection file.
CURVE_KEYS = ("curve_publickey", "curve_secretkey")


def handoff_directory() -> Path:
    """This user's private directory for kernel handoff files and job logs."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)  # not $HOME: prefixes may keep the caller's
    directory = home / DIRECTORY
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        msg = f"{directory} is not a directory owned by this user"
        raise PermissionError(msg)
    if stat.S_IMODE(info.st_mode) & 0o077:
        directory.chmod(0o700)
    return directory


def write_secrets(name: str, secrets: dict[str, Any]) -> Path:
    """Write ``secrets`` to a new private file ``name`` in the handoff directory."""
    if "/" in name or name.startswith("."):
        msg = f"not a plain file name: {name!r}"
        raise ValueError(msg)
    path = handoff_directory() / name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(secrets, file)
    return path


def write_once(name: str, content: bytes) -> Path:
    """A private file ``name`` in the handoff directory with ``content``, unless one is there
    already: named after its content's digest (launcher_app), it is the same file."""
    if "/" in name or name.startswith("."):
        msg = f"not a plain file name: {name!r}"
        raise ValueError(msg)
    path = handoff_directory() / name
    if path.exists():
        return path
    partial = path.with_name(f".{name}.{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(partial, flags, 0o600), "wb") as file:
        file.write(content)
    partial.replace(path)  # whole or not at all, also for a second server doing the same
    return path


def read_secrets_once(path: Path) -> dict[str, Any]:
    """Read and delete a handoff file, refusing one that others could have read or written."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        info = os.fstat(descriptor)
        if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
            msg = f"{path} must belong to this user and be readable by nobody else"
            raise PermissionError(msg)
        with os.fdopen(descriptor, closefd=False) as file:
            secrets: dict[str, Any] = json.load(file)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)
    return secrets


def remove(name: str) -> None:
    """Delete a file of the handoff directory: unused secrets, a cleanly ended job's log."""
    if "/" in name or name.startswith("."):
        msg = f"not a plain file name: {name!r}"
        raise ValueError(msg)
    (handoff_directory() / name).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    """``write NAME`` (secrets as JSON on stdin), ``write-once NAME`` (bytes on stdin), both
    printing the file's path, or ``remove NAME``."""
    if len(argv) != 2 or argv[0] not in {"write", "write-once", "remove"}:
        sys.stderr.write("usage: handoff.py write|write-once|remove NAME\n")
        return 2
    command, name = argv
    if command == "remove":
        remove(name)
        return 0
    if command == "write-once":
        path = write_once(name, sys.stdin.buffer.read())
    else:
        path = write_secrets(name, json.load(sys.stdin))
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
