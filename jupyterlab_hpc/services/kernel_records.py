"""What a server leaves on disk about its remote kernels, so its successor can clean up.

One JSON file per kernel in a directory only the user can read (0700; files 0600): the
kernel's id, kernelspec, resources, the provisioner's info (``get_provisioner_info``: the
Slurm job) and which server process (pid, start time, host) wrote it. A file exists while the
kernel's job may run. A server that starts reads the files of servers that are gone (not those
of another live server of the same user sharing the directory, nor those of a server on
another host: a home directory shared between login nodes can tell nothing about those).

``ServerRecords``: one file per running server (``<pid>.json``, in
jupyterlab-hpc-servers/ of Jupyter's runtime directory) naming the files jupyter_server writes
for it (jpserver-<pid>.json and its -open.html), which a SIGKILLed server leaves behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class KernelRecord:
    kernel_id: str
    kernel_name: str
    resources: dict[str, Any]
    provisioner_info: dict[str, Any]
    server_pid: int
    server_started: str | None  # the process's start in clock ticks since boot (Linux)
    server_host: str | None = None  # None in records of older versions: this host
    connection_file: str | None = None  # the KernelManager's (it holds the kernel's key)
    listed: bool = True  # under /hpc/kernels; False: started through Jupyter's /api/kernels
    path: str = ""  # the API path of the folder the kernel runs in


@dataclass(frozen=True)
class ServerRecord:
    """A running server and the files jupyter_server writes for it, removed at a clean stop:
    its jpserver files, and the connection file of every kernel its kernel manager made."""

    pid: int
    started: str | None
    host: str
    files: list[str]
    connection_files: list[str] = field(default_factory=list)


def this_server() -> tuple[int, str | None]:
    return os.getpid(), process_started(os.getpid())


def this_host() -> str:
    return socket.gethostname()


def process_started(pid: int) -> str | None:
    """The process's start time as /proc has it: with the pid, names a process uniquely."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def server_is_gone(pid: int, started: str | None, host: str | None) -> bool:
    """Whether the server process is provably gone: it ran on this host, and no process with
    its pid and start time runs. A server of another host is never taken for gone."""
    if host is not None and host != this_host():
        return False
    now = process_started(pid)
    return now is None or now != started


def _is_connection_file(path: str) -> bool:
    return re.fullmatch(r"kernel-[A-Za-z0-9_-]{1,128}\.json", Path(path).name) is not None


def _command_line_words() -> set[str]:
    """Every argument of every process of this host (a local kernel names its connection
    file on its command line: ``-f .../kernel-<id>.json``)."""
    words: set[str] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                words.update(os.fsdecode(word) for word in argv)
    return words


def _is_server_file(path: str, pid: int) -> bool:
    """Only the files jupyter_server names after this pid, whatever a record says."""
    pattern = rf"jpserver-(file-to-run-)?{pid}(-open\.html|\.json)"
    return re.fullmatch(pattern, Path(path).name) is not None


class KernelRecords:
    """The directory of records."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, record: KernelRecord) -> None:
        _write_private(self.directory, self._path(record.kernel_id), asdict(record))

    def remove(self, kernel_id: str) -> None:
        self._path(kernel_id).unlink(missing_ok=True)

    def left_by_gone_servers(self) -> list[KernelRecord]:
        """Records whose server process no longer runs; unreadable files are skipped."""
        records = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, TypeError):
                record = KernelRecord(**json.loads(path.read_text()))
                if server_is_gone(record.server_pid, record.server_started, record.server_host):
                    records.append(record)
        return records

    def _path(self, kernel_id: str) -> Path:
        return self.directory / f"{kernel_id}.json"


class ServerRecords:
    """The directory of server records (0700, files 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, record: ServerRecord) -> None:
        _write_private(self.directory, self._path(record.pid), asdict(record))

    def remove(self, pid: int) -> None:
        self._path(pid).unlink(missing_ok=True)

    def remove_files_of_gone_servers(self, keep: Collection[str] = ()) -> list[str]:
        """Remove the jpserver files of servers that are provably gone, and the connection files
        of their kernels that no process here names (a local kernel outliving its server keeps
        its own) and that are not in ``keep`` (those of the kernels this server took over,
        written anew under the same names); the records too. The files removed."""
        removed = []
        in_use: set[str] | None = None
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, TypeError):
                record = ServerRecord(**json.loads(path.read_text()))
                if not server_is_gone(record.pid, record.started, record.host):
                    continue
                names = [name for name in record.files if _is_server_file(name, record.pid)]
                connection_files = [
                    name for name in record.connection_files if _is_connection_file(name)
                ]
                if connection_files and in_use is None:
                    in_use = _command_line_words()
                names += [  # jupyter_client puts the real path on the command line
                    name
                    for name in connection_files
                    if not {name, str(Path(name).resolve())} & (in_use or set())
                    and name not in keep
                ]
                for name in names:
                    file = Path(name)
                    if file.is_file():
                        file.unlink()
                        removed.append(name)
                path.unlink()
        return removed

    def _path(self, pid: int) -> Path:
        return self.directory / f"{pid}.json"


def _write_private(directory: Path, path: Path, content: dict[str, Any]) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with os.fdopen(os.open(partial, flags, 0o600), "w") as file:
        json.dump(content, file)
    partial.replace(path)  # a reader never sees half a record
