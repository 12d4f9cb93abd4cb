"""The demo's server token is on no command line: any local user (bob) can read every
process's arguments with ps, and with the token he could use alice's server.

Runs demo/start.sh as `make demo` does, on a free port, and stops what it started: its
JupyterLab by PID and the two jobs it printed.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX
from jupyterlab_hpc.tests.server_process import free_port

pytestmark = pytest.mark.cluster

DEMO = Path(__file__).resolve().parents[2] / "demo" / "start.sh"
START_TIMEOUT = 90


class Demo:
    """demo/start.sh running in the background, its output read as it comes."""

    def __init__(self, port: int) -> None:
        self.port = port
        env = {**os.environ, "VENV": sys.prefix, "DEMO_PORT": str(port)}
        # The script ends by exec'ing runuser, which stays JupyterLab's parent and passes it
        # the SIGTERM that stops it: this PID is the demo's server.
        self.process = subprocess.Popen(
            [str(DEMO)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        # Drained all along, or JupyterLab's log would fill the pipe and stall it.
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def printed(self, pattern: str) -> re.Match[str]:
        """The first line the demo prints (from now) that matches ``pattern``."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            self.output.append(line)
            if found := re.search(pattern, line):
                return found
        pytest.fail(f"the demo did not print {pattern!r}:\n{''.join(self.output)}")

    def get(self, path: str, token: str | None = None) -> int:
        """The status of a GET to the demo's server, with the token or without (as bob)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token is not None:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http:)
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.output)
            try:
                self.get("/api/status")
                return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"the demo's server did not answer on {self.port}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def demo(cluster: dict[str, Any]) -> Iterator[Demo]:
    running = Demo(free_port())
    jobs: list[str] = []
    try:
        jobs = list(running.printed(r"demo jobs: (\d+) (\d+)").groups())
        yield running
    finally:
        running.stop()
        if jobs:
            subprocess.run([*CLUSTER_PREFIX, "scancel", *jobs], capture_output=True, check=False)


def command_lines() -> dict[int, str]:
    """Every process's arguments, as ps shows them to any user."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:  # gone meanwhile
                continue
    return {pid: line.decode(errors="replace") for pid, line in found.items()}


def test_the_demos_token_is_on_no_command_line_and_guards_its_server(demo: Demo) -> None:
    # The URL comes before the job line: the fixture has read it already.
    url = next(line for line in demo.output if "token=" in line)
    token = re.search(r"/lab\?token=([0-9a-f]+)", url)
    assert token is not None, url
    demo.wait_until_serving()

    leaking = {pid: line for pid, line in command_lines().items() if token[1] in line}
    seen_by_bob = subprocess.run(
        ["runuser", "-u", "bob", "--", "ps", "-eo", "pid,user,args", "--width", "100000"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    assert leaking == {}
    assert token[1] not in seen_by_bob
    assert "jupyter lab" in seen_by_bob or "jupyter-lab" in seen_by_bob  # the server is there
    assert demo.get("/api/contents") == 403  # bob, without the token
    assert demo.get("/api/contents", token[1]) == 200
