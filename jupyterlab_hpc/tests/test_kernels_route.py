"""``/hpc/kernels`` on the real cluster: remote kernels started, watched and stopped over REST.

The server runs as root and reaches Slurm as alice (conftest's command prefix), so the kernels'
jobs, processes and files are alice's.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from jupyterlab_hpc.services.kernels import PROGRESS_SCHEMA_ID
from jupyterlab_hpc.tests.conftest import SERVER_USER, as_user
from jupyterlab_hpc.tests.kernel_fixtures import (
    GRACE_PERIOD,
    HANDOFF_DIR,
    HEARTBEAT,
    active_in_queue,
    eventually,
    run_code,
)
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi
from jupyterlab_hpc.tests.server_process import ServerProcess

pytestmark = pytest.mark.cluster

Fetch = Callable[..., Awaitable[HTTPResponse]]
PRESET = {"name": "small", "title": "1 CPU, 10 minutes", "resources": {"cpus": 1, "time": 600}}


@pytest.fixture
def job_name() -> str:
    """This test's kernel jobs' name: what it submitted, and only that, is found by it."""
    return f"pytest-rest-kernel-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def jp_server_config(
    recording_prefix: list[str], cluster: dict[str, Any], job_name: str
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "SlurmConnection": {"command_prefix": recording_prefix, "timeout": 10.0},
        "HPCExtension": {"jobs_refresh": 0.0, "partitions_refresh": 0.0},
        "SlurmProvisioner": {
            "grace_period": GRACE_PERIOD,
            "heartbeat_interval": HEARTBEAT,
            "job_name": job_name,
            "walltime_warning": 0,
        },
        "RemoteKernels": {
            "presets": [PRESET, {"name": "broken", "title": "x", "resources": {"cpus": 0}}],
            "default_resources": {"partition": "compute", "time": 1800},
            "max_cpus": 2,
            "watch_interval": 0.5,
        },
    }


@pytest.fixture(autouse=True)
def cancel_left_jobs(cluster: dict[str, Any], job_name: str) -> Iterator[None]:
    """Every job of the test cancelled; the logs kept of kernels that did not end cleanly
    (the user's, in real life) removed."""
    yield
    subprocess.run(["scancel", f"--name={job_name}"], capture_output=True, check=False)
    # slurmctld knows a job that just ended before slurmdbd does: ask both.
    argv = ["squeue", "--noheader", "--states=all", f"--name={job_name}", "--format=%i"]
    known = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split()
    for job_id in {*known, *submitted_jobs(job_name).split()}:
        (HANDOFF_DIR / f"kernel-{job_id}.log").unlink(missing_ok=True)


async def call(fetch: Fetch, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    """Request ``/hpc/<path>``; the status and JSON body, checked against the OpenAPI document."""
    parts = path.split("/")
    response = await fetch(
        "hpc",
        *parts,
        method=method,
        body=None if body is None else json.dumps(body),
        raise_error=False,
    )
    template = "/hpc/" + "/".join(
        "{kernel_id}" if index == 1 and part != "options" else part
        for index, part in enumerate(parts)
    )
    assert_matches_openapi(template, method, response.code, response.body)
    return response.code, json.loads(response.body) if response.body else None


def queued_jobs(job_name: str) -> str:
    argv = ["squeue", "--noheader", f"--name={job_name}", "--format=%i"]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()


def submitted_jobs(job_name: str) -> str:
    argv = ["sacct", "--noheader", "--allocations", f"--name={job_name}", "--format=JobID"]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()


async def test_options_offer_the_sites_presets_and_the_users_partitions_and_accounts(
    jp_fetch: Fetch,
) -> None:
    status, options = await call(jp_fetch, "kernels/options")

    assert status == 200
    assert options["presets"] == [PRESET]  # the broken preset is left out
    assert options["defaults"] == {"partition": "compute", "time": 1800}
    assert {p["name"] for p in options["partitions"]} == {"debug", "compute"}
    assert all(p["allowed"] for p in options["partitions"])
    assert set(options["accounts"]) == {"proj1", "proj2"}
    assert options["default_account"] == "proj1"
    assert options["limits"]["max_cpus"] == 2


async def test_a_kernel_started_over_rest_runs_on_a_node_and_delete_ends_its_job(
    jp_fetch: Fetch,
    jp_ws_fetch: Callable[..., Awaitable[Any]],
    jp_serverapp: Any,
    cluster: dict[str, Any],
) -> None:
    events = await jp_ws_fetch("api", "events", "subscribe")
    asked = time.monotonic()

    status, started = await call(
        jp_fetch, "kernels", "POST", {"kernel_name": "python3", "resources": {"cpus": 1}}
    )

    # Then the answer comes before the job could even have been scheduled
    assert time.monotonic() - asked < 1.0
    assert status == 202
    assert started["state"] == "queued"
    kernel_id = started["id"]
    seen: list[str] = []

    async def ready() -> bool:
        code, kernel = await call(jp_fetch, f"kernels/{kernel_id}")
        assert code == 200
        assert kernel["state"] not in {"failed", "ended"}, kernel["reason"]
        seen.append(kernel["state"])
        return bool(kernel["state"] == "ready")

    await eventually(ready, timeout=60, interval=0.1)
    _, kernel = await call(jp_fetch, f"kernels/{kernel_id}")
    assert kernel["node"] in cluster["nodes"]
    assert kernel["job_id"].isdigit()
    assert kernel["resources"] == {"cpus": 1}
    assert set(seen) <= {"queued", "starting", "ready"}
    assert (await call(jp_fetch, "kernels"))[1]["kernels"] == [kernel]

    # The id is the Jupyter kernel's: jupyter_server's own API and kernel manager know it
    assert json.loads((await jp_fetch("api", "kernels", kernel_id)).body)["id"] == kernel_id
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        result = await run_code(client, "import socket; print(socket.gethostname())")
    finally:
        client.stop_channels()
    assert result["stdout"].strip() == kernel["node"]

    # Progress reached the server's event stream, as Lab's ServiceManager.events reads it
    progress = []
    while "ready" not in progress:
        message = json.loads(await asyncio.wait_for(events.read_message(), 10))
        if message["schema_id"] == PROGRESS_SCHEMA_ID and message["kernel_id"] == kernel_id:
            progress.append(message["event"])
    assert progress[0] == "queued"
    events.close()

    status, _ = await call(jp_fetch, f"kernels/{kernel_id}", "DELETE")

    assert status == 204
    await eventually(lambda: not active_in_queue(kernel["job_id"]), timeout=15)
    _, after = await call(jp_fetch, f"kernels/{kernel_id}")
    assert after["state"] == "ended"
    assert kernel_id not in jp_serverapp.kernel_manager


async def start_ready_kernel(fetch: Fetch, **resources: Any) -> dict[str, Any]:
    body = {"kernel_name": "python3", "resources": resources}
    kernel_id = (await call(fetch, "kernels", "POST", body))[1]["id"]

    async def ready() -> bool:
        kernel = (await call(fetch, f"kernels/{kernel_id}"))[1]
        assert kernel["state"] in {"queued", "starting", "ready"}, kernel
        return bool(kernel["state"] == "ready")

    await eventually(ready, timeout=60, interval=0.1)
    return dict((await call(fetch, f"kernels/{kernel_id}"))[1])


async def test_a_job_cancelled_outside_jupyter_reports_the_kernel_ended_with_the_reason(
    jp_fetch: Fetch, jp_serverapp: Any, job_name: str
) -> None:
    kernel = await start_ready_kernel(jp_fetch)

    subprocess.run([*as_user(SERVER_USER), "scancel", kernel["job_id"]], check=True)

    async def ended() -> bool:
        return bool((await call(jp_fetch, f"kernels/{kernel['id']}"))[1]["state"] == "ended")

    await eventually(ended, timeout=20)
    after = (await call(jp_fetch, f"kernels/{kernel['id']}"))[1]
    assert "cancelled" in after["reason"]
    assert kernel["job_id"] in after["reason"]
    # Not restarted into a new job behind the user's back: the kernel is gone (its shutdown,
    # which follows the report, may still be under way)
    await eventually(lambda: kernel["id"] not in jp_serverapp.kernel_manager, timeout=15)
    assert queued_jobs(job_name) == ""


async def test_a_restart_through_jupyters_api_stays_in_the_job_and_the_kernel_stays_ready(
    jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    kernel = await start_ready_kernel(jp_fetch)

    for _ in range(2):  # as Lab's Kernel > Restart does
        await jp_fetch("api", "kernels", kernel["id"], "restart", method="POST", body="{}")
    await asyncio.sleep(2.0)  # several of the watcher's looks

    after = (await call(jp_fetch, f"kernels/{kernel['id']}"))[1]
    assert (after["state"], after["job_id"]) == ("ready", kernel["job_id"])
    client = jp_serverapp.kernel_manager.get_kernel(kernel["id"]).client()
    client.start_channels()
    try:
        assert (await run_code(client, "print(6 * 7)"))["stdout"] == "42\n"
    finally:
        client.stop_channels()


async def test_a_start_slurm_refuses_is_reported_failed_in_slurms_words(
    jp_fetch: Fetch, jp_serverapp: Any, job_name: str
) -> None:
    body = {"kernel_name": "python3", "resources": {"account": "proj2", "qos": "high"}}
    status, started = await call(jp_fetch, "kernels", "POST", body)
    assert status == 202

    async def failed() -> bool:
        return bool((await call(jp_fetch, f"kernels/{started['id']}"))[1]["state"] == "failed")

    await eventually(failed, timeout=20)
    kernel = (await call(jp_fetch, f"kernels/{started['id']}"))[1]
    assert "qos" in kernel["reason"].lower()
    assert started["id"] not in jp_serverapp.kernel_manager
    assert queued_jobs(job_name) == ""


@pytest.fixture
def future_reservation(cluster: dict[str, Any]) -> Iterator[str]:
    """A reservation of alice's that starts in two days: a job asking for it stays queued."""
    name = f"pytest-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["scontrol", "create", "reservation", f"ReservationName={name}",
         "StartTime=now+2days", "Duration=10", f"Users={SERVER_USER}", "Nodes=n1"],
        check=True, capture_output=True,
    )  # fmt: skip
    yield name
    subprocess.run(["scontrol", "delete", f"ReservationName={name}"], check=False)


async def test_delete_while_queued_cancels_the_job_and_no_kernel_remains(
    jp_fetch: Fetch, jp_serverapp: Any, future_reservation: str
) -> None:
    body = {
        "kernel_name": "python3",
        "resources": {"partition": "compute", "reservation": future_reservation, "time": 600},
    }
    _, started = await call(jp_fetch, "kernels", "POST", body)
    kernel_id = started["id"]

    async def waits_with_a_reason() -> bool:
        _, kernel = await call(jp_fetch, f"kernels/{kernel_id}")
        return kernel["job_id"] is not None and kernel["reason"] is not None

    await eventually(waits_with_a_reason, timeout=20)
    _, kernel = await call(jp_fetch, f"kernels/{kernel_id}")
    assert kernel["state"] == "queued"
    assert "eservation" in kernel["reason"]
    assert active_in_queue(kernel["job_id"])

    status, _ = await call(jp_fetch, f"kernels/{kernel_id}", "DELETE")

    assert status == 204
    assert not active_in_queue(kernel["job_id"])  # gone before DELETE answered
    _, after = await call(jp_fetch, f"kernels/{kernel_id}")
    assert after["state"] == "ended"
    assert kernel_id not in jp_serverapp.kernel_manager


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kernel_name": "python3", "resources": {"partition": "debug;touch /tmp/x"}}, "partition"),
        ({"kernel_name": "python3", "resources": {"cpus": 0}}, "cpus"),
        ({"kernel_name": "python3", "resources": {"cpus": 3}}, "cpus"),  # the site's max_cpus
        ({"kernel_name": "python3", "resources": {"cpus": "2"}}, "cpus"),
        ({"kernel_name": "python3", "resources": {"time": 30}}, "time"),
        ({"kernel_name": "python3", "resources": {"memory_mb": -1}}, "memory_mb"),
        ({"kernel_name": "python3", "resources": {"gpus": "a100:x"}}, "gpus"),
        ({"kernel_name": "python3", "resources": {"nodes": 4}}, "Unknown resource"),
        ({"kernel_name": "python3", "resources": {"partition": "nosuch"}}, "nosuch"),
        ({"kernel_name": "python3", "resources": {"account": "proj9"}}, "proj9"),
        ({"kernel_name": "python3", "resources": {"partition": "debug", "time": 3600}}, "limit"),
        ({"kernel_name": "no-such-kernel", "resources": {}}, "kernelspec"),
        ({"kernel_name": "python3", "resources": {}, "path": "../../etc"}, "path"),
    ],
)
async def test_bad_requests_are_refused_and_nothing_is_submitted(
    jp_fetch: Fetch, body: dict[str, Any], words: str, job_name: str
) -> None:
    status, error = await call(jp_fetch, "kernels", "POST", body)

    assert status == 400
    assert words in error["message"]
    assert (await call(jp_fetch, "kernels"))[1]["kernels"] == []
    assert queued_jobs(job_name) == ""
    assert submitted_jobs(job_name) == ""


async def test_a_kernel_that_cannot_encrypt_is_refused_and_nothing_is_submitted(
    jp_fetch: Fetch, jp_data_dir: Path, job_name: str
) -> None:
    """Its traffic would cross the cluster network in the clear (see test_kernel_privacy)."""
    spec_dir = jp_data_dir / "kernels" / "python3-plain"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
    (spec_dir / "kernel.json").write_text(json.dumps({**spec, "display_name": "Plain"}))

    status, error = await call(jp_fetch, "kernels", "POST", {"kernel_name": "python3-plain"})

    assert status == 400
    assert "cannot encrypt its traffic" in error["message"]
    assert "transport_encryption" in error["message"]
    assert submitted_jobs(job_name) == ""


async def test_an_unknown_kernel_is_404(jp_fetch: Fetch) -> None:
    assert (await call(jp_fetch, "kernels/no-such-id"))[0] == 404
    assert (await call(jp_fetch, "kernels/no-such-id", "DELETE"))[0] == 404


# -- a server that is SIGKILLed and started again --------------------------------------------


def test_a_restarted_server_cancels_the_kernel_job_its_killed_predecessor_left(
    tmp_path: Path, jp_root_dir: Path, job_name: str
) -> None:
    """With reattach off; test_kernel_reattach.py has the take-over."""
    # A long grace period: only the restarted server can have ended the job early.
    provisioner = {"job_name": job_name, "grace_period": 300, "reattach": False}
    first = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        kernel = first.ready_remote_kernel()
        kernel_id, job_id = kernel["id"], kernel["job_id"]
        records = list((tmp_path / "state").iterdir())
        assert [path.name for path in records] == [f"{kernel_id}.json"]
        assert records[0].stat().st_mode & 0o077 == 0  # the user's eyes only

        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        assert active_in_queue(job_id)  # the launcher waits out its grace period (300 s)
    finally:
        first.stop()

    second = ServerProcess(tmp_path, jp_root_dir, provisioner)
    try:
        deadline = time.monotonic() + 20
        while active_in_queue(job_id):
            assert time.monotonic() < deadline, f"job {job_id} still runs"
            time.sleep(0.2)
        listed = second.request("hpc/kernels")["kernels"]
        assert [(k["id"], k["job_id"], k["state"]) for k in listed] == [
            (kernel_id, job_id, "ended")
        ]
        assert "cancelled" in listed[0]["reason"]
        assert not list((tmp_path / "state").iterdir())
    finally:
        second.stop()
