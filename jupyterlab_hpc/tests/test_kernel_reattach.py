"""A server killed while a remote kernel runs, and started again: the new server takes the
kernel over (same kernel id, job, variables, running cell, notebook session) while the
launcher's grace period lasts; after it, nothing is taken over; a clean stop ends the job.
On the real cluster, with real server processes (they must be SIGKILLable)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX
from jupyterlab_hpc.tests.kernel_fixtures import active_in_queue
from jupyterlab_hpc.tests.server_process import ServerProcess

pytestmark = pytest.mark.cluster

COUNTING = "import time\nfor i in range(120):\n    print(i, flush=True)\n    time.sleep(1)\n"


@pytest.fixture
def provisioner() -> Iterator[dict[str, Any]]:
    """This test's kernel jobs (by name); any left running are cancelled afterwards."""
    job_name = f"pytest-reattach-{uuid.uuid4().hex[:8]}"
    yield {"job_name": job_name, "grace_period": 60}
    subprocess.run([*CLUSTER_PREFIX, "scancel", f"--name={job_name}"], check=False)


class Notebook:
    """A notebook's websocket to its kernel, as Lab holds it."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        self.printed: list[str] = []  # stream output, in order

    @classmethod
    async def open(cls, server: ServerProcess, kernel_id: str) -> Notebook:
        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels",
            headers={"Authorization": f"token {server.token}"},
        )
        return cls(await asyncio.wait_for(websocket_connect(request), 30))

    async def execute(self, code: str) -> str:
        """Send an execute_request; its msg_id."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "session": msg_id,
                  "username": "alice", "version": "5.3", "date": ""}  # fmt: skip
        content = {"code": code, "silent": False, "store_history": False,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}  # fmt: skip
        message = {"header": header, "parent_header": {}, "metadata": {},
                   "content": content, "channel": "shell", "buffers": []}  # fmt: skip
        await self.connection.write_message(json.dumps(message))
        return msg_id

    async def read_until(self, done: Any, timeout: float = 30) -> None:
        """Read messages, keeping stream output, until ``done(message)`` is true."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; printed so far: {self.printed[-5:]}"
            text = await asyncio.wait_for(self.connection.read_message(), left)
            assert text is not None, "the websocket closed"
            message = json.loads(text)
            if message["msg_type"] == "stream":
                self.printed.append(message["content"]["text"])
            if done(message):
                return

    def numbers(self) -> list[int]:
        return [int(n) for n in re.findall(r"^(\d+)$", "".join(self.printed), re.MULTILINE)]


def replied(msg_id: str) -> Any:
    return lambda m: m["msg_type"] == "execute_reply" and m["parent_header"]["msg_id"] == msg_id


async def start_counting(server: ServerProcess, kernel_id: str) -> list[int]:
    notebook = await Notebook.open(server, kernel_id)
    await notebook.read_until(replied(await notebook.execute("x = 42")))
    await notebook.execute(COUNTING)
    await notebook.read_until(lambda _: len(notebook.numbers()) >= 3)
    notebook.connection.close()
    return notebook.numbers()


async def counting_goes_on(server: ServerProcess, kernel_id: str) -> tuple[list[int], str]:
    """The loop's later output; then, interrupted, the variable set before the kill."""
    notebook = await Notebook.open(server, kernel_id)
    await notebook.read_until(lambda _: len(notebook.numbers()) >= 2)
    counted = notebook.numbers()
    server.request(f"api/kernels/{kernel_id}/interrupt", "POST")
    # The loop's cell ends (its reply went to the dead server's socket; iopub says it): its
    # KeyboardInterrupt, then the kernel idle after that execute_request (not after some
    # kernel_info). A request sent before would be aborted with the interrupted cell.
    await notebook.read_until(
        lambda m: m["msg_type"] == "error" and m["content"]["ename"] == "KeyboardInterrupt"
    )
    await notebook.read_until(
        lambda m: (
            m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            and m["parent_header"].get("msg_type") == "execute_request"
        )
    )
    notebook.printed.clear()
    await notebook.read_until(replied(await notebook.execute("print(x)")))
    notebook.connection.close()
    return counted, "".join(notebook.printed)


def until_taken_over(server: ServerProcess, kernel_id: str, timeout: float = 60) -> float:
    """Seconds until the server lists the kernel as ready: taken over and answering."""
    started = time.monotonic()
    # /api/kernels only after: jupyter_server (2.21) answers it 500 while a kernel starts.
    while _state(server, kernel_id) != "ready" or kernel_id not in {
        kernel["id"] for kernel in server.request("api/kernels")
    }:
        assert time.monotonic() - started < timeout, f"kernel {kernel_id} not taken over"
        time.sleep(0.1)
    return time.monotonic() - started


def _state(server: ServerProcess, kernel_id: str) -> str | None:
    try:
        return str(server.request(f"hpc/kernels/{kernel_id}")["state"])
    except urllib.error.HTTPError as error:
        if error.code == 404:  # not found yet
            return None
        raise


def test_a_killed_servers_kernel_is_taken_over_with_its_variables_and_running_cell(
    tmp_path: Path, jp_root_dir: Path, provisioner: dict[str, Any]
) -> None:
    (jp_root_dir / "analysis.ipynb").write_text(json.dumps(EMPTY_NOTEBOOK))
    first = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        kernel = first.ready_remote_kernel()
        session = first.request("api/sessions", "POST", {
            "path": "analysis.ipynb", "name": "analysis.ipynb", "type": "notebook",
            "kernel": {"id": kernel["id"]},
        })  # fmt: skip
        before = asyncio.run(start_counting(first, kernel["id"]))
        records = list((tmp_path / "state").iterdir())
        first.kill()
    finally:
        first.stop()
    assert active_in_queue(kernel["job_id"])
    # The record holds the kernel's key and its launcher's token: the user's eyes only.
    assert [record.stat().st_mode & 0o777 for record in records] == [0o600]
    as_bob = subprocess.run(
        [*CLUSTER_PREFIX, "runuser", "-u", "bob", "--", "cat", str(records[0])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert as_bob.returncode != 0
    assert "token" not in as_bob.stdout

    second = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        took = until_taken_over(second, kernel["id"])
        listed = second.request(f"hpc/kernels/{kernel['id']}")
        sessions = second.request("api/sessions")
        after, printed = asyncio.run(counting_goes_on(second, kernel["id"]))
        # The new kernel manager's connection file, under the dead one's name, is kept.
        connection_file_kept = (tmp_path / "runtime" / f"kernel-{kernel['id']}.json").is_file()
    finally:
        second.stop()  # a clean stop: the job ends
    print(f"taken over {took:.2f} s after the restarted server answered")  # noqa: T201

    assert (listed["state"], listed["job_id"]) == ("ready", kernel["job_id"])
    assert [(s["id"], s["path"], s["kernel"]["id"]) for s in sessions] == [
        (session["id"], "analysis.ipynb", kernel["id"])
    ]
    assert after[0] > before[-1]  # the same loop, counting on
    assert connection_file_kept
    assert printed.strip() == "42"
    deadline = time.monotonic() + 20
    while active_in_queue(kernel["job_id"]):
        assert time.monotonic() < deadline, "the clean stop left the job running"
        time.sleep(0.2)


def test_after_the_grace_period_the_job_is_gone_and_nothing_is_taken_over(
    tmp_path: Path, jp_root_dir: Path, provisioner: dict[str, Any]
) -> None:
    provisioner = {**provisioner, "grace_period": 5}
    first = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        kernel = first.ready_remote_kernel()
        first.kill()
    finally:
        first.stop()
    deadline = time.monotonic() + 30
    while active_in_queue(kernel["job_id"]):  # the launcher ends it after 5 s of silence
        assert time.monotonic() < deadline, "the launcher did not end its job"
        time.sleep(0.5)

    second = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        deadline = time.monotonic() + 20
        while not (listed := second.request("hpc/kernels")["kernels"]):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        kernels = second.request("api/kernels")
    finally:
        second.stop()
    assert [(k["id"], k["state"]) for k in listed] == [(kernel["id"], "ended")]
    assert "had already ended" in listed[0]["reason"]
    assert kernels == []


EMPTY_NOTEBOOK = {
    "cells": [],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}
