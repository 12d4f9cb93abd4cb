"""What a server leaves on disk about its remote kernels, so its successor can clean up.

One JSON file per kernel in a directory only the user can read (0700; files 0600): the
kernel's id, kernelspec, resources, the provisioner's info (``get_provisioner_info``: the
Slurm job) and which server process wrote it. A file exists while the kernel's job may run.
A server that starts reads the files of servers that are gone (not those of another live
server of the same user sharing the directory).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
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


def this_server() -> tuple[int, str | None]:
    return os.getpid(), process_started(os.getpid())


def process_started(pid: int) -> str | None:
    """The process's start time as /proc has it: with the pid, names a process uniquely."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def server_is_gone(record: KernelRecord) -> bool:
    started = process_started(record.server_pid)
    return started is None or started != record.server_started


class KernelRecords:
    """The directory of records."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, record: KernelRecord) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(record.kernel_id)
        partial = path.with_suffix(".partial")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        with os.fdopen(os.open(partial, flags, 0o600), "w") as file:
            json.dump(asdict(record), file)
        partial.replace(path)  # a reader never sees half a record

    def remove(self, kernel_id: str) -> None:
        self._path(kernel_id).unlink(missing_ok=True)

    def left_by_gone_servers(self) -> list[KernelRecord]:
        """Records whose server process no longer runs; unreadable files are skipped."""
        records = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, TypeError):
                record = KernelRecord(**json.loads(path.read_text()))
                if server_is_gone(record):
                    records.append(record)
        return records

    def _path(self, kernel_id: str) -> Path:
        return self.directory / f"{kernel_id}.json"
