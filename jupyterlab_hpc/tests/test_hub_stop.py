"""Remote kernels when JupyterHub (or systemd, or the kernel OOM killer) stops a server.

A real JupyterHub runs as root on loopback ports, with its own sqlite database, cookie secret
and configurable-http-proxy (``make hub-proxy``), DummyAuthenticator and LocalProcessSpawner:
alice's server is this venv's ``jupyterhub-singleuser``, running as alice (HOME=/home/alice),
with the extension, reaching Slurm directly (no command prefix), its stdin not a TTY (the
hub's is /dev/null, as under systemd). Everything goes through the hub's REST API and its
proxy, with a service token.

- The hub's stop (DELETE /hub/api/users/alice/server: SIGINT, then SIGTERM after 10 s) and a
  SIGTERM to the server end its remote kernels' jobs at once, COMPLETED or CANCELLED, with no
  process left and no connection file.
- A SIGKILLed server's successor cancels the job still running ("was cancelled"), reports the
  one that ended meanwhile as such ("had already ended (CANCELLED)"), and removes the
  connection files, records, jpserver files and logs the dead server left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyterlab_hpc.kernels.kernelspec import install
from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX
from jupyterlab_hpc.tests.kernel_fixtures import HANDOFF_DIR, KERNEL_NAME

pytestmark = pytest.mark.cluster

USER = "alice"
REPO = Path(__file__).resolve().parents[2]
PROXY = REPO / ".hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
BIN = Path(sys.executable).parent
# Long enough that a job ending by it cannot pass for one the server ended (ENDS_WITHIN).
GRACE_PERIOD = 30.0
ENDS_WITHIN = 10.0
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", ""}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """``check()``'s first true value; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
    return value


def slurm(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()


def queued(job_id: str) -> bool:
    return slurm("squeue", "--noheader", f"--jobs={job_id}", "--format=%i") == job_id


def final_state(job_id: str) -> str:
    """The job's state in accounting once it is final ('' while it is not)."""
    states = slurm(
        "sacct", "--noheader", "--parsable2", "--allocations", "-j", job_id, "-o", "State"
    )
    state = states.split(" ", 1)[0] if states else ""
    return "" if state in ACTIVE else state


def processes_of_job(job_id: str) -> list[int]:
    """Processes whose environment says they belong to the job (launcher, kernel ...)."""
    needle = f"\0SLURM_JOB_ID={job_id}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in b"\0" + (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


def processes_naming(path: Path) -> list[int]:
    needle = b"\0" + str(path).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in b"\0" + (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Hub:
    """A running JupyterHub and what the tests need to talk to alice's server through it."""

    directory: Path
    port: int
    token: str
    job_name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def runtime_dir(self) -> Path:
        return self.directory / "runtime"

    @property
    def state_dir(self) -> Path:
        return self.runtime_dir / "jupyterlab-hpc-kernels"

    def server_record(self, pid: int) -> Path:
        return self.runtime_dir / "jupyterlab-hpc-servers" / f"{pid}.json"

    def request(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                code, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            code, text = error.code, error.read()
        try:
            return code, json.loads(text) if text else None
        except ValueError:
            return code, text.decode(errors="replace")

    def server(self) -> dict[str, Any] | None:
        code, user = self.request(f"hub/api/users/{USER}")
        assert code == 200, user
        server: dict[str, Any] | None = user["servers"].get("")
        return server

    def start_server(self) -> int:
        """Start alice's server; its pid once it is ready."""
        code, body = self.request(f"hub/api/users/{USER}/server", "POST")
        assert code in {201, 202}, body

        def ready() -> dict[str, Any] | None:
            server = self.server()
            return server if server and server["ready"] else None

        server = wait_for(ready, 60, "alice's server ready")
        return int(server["state"]["pid"])

    def stop_server(self) -> float:
        """Stop alice's server the hub's way (its spawner's stop); seconds it took."""
        started = time.monotonic()
        code, body = self.request(f"hub/api/users/{USER}/server", "DELETE")
        assert code in {202, 204}, body
        wait_for(lambda: self.server() is None, 30, "alice's server stopped")
        return time.monotonic() - started

    def api(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        """alice's server, through the proxy."""
        return self.request(f"user/{USER}/{path}", method, body)

    def jobs(self) -> set[str]:
        return set(slurm("squeue", "--noheader", f"--name={self.job_name}", "--format=%i").split())

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _write_config(directory: Path, job_name: str) -> tuple[Path, int, str]:
    port = _free_port()
    token = uuid.uuid4().hex
    alice = pwd.getpwnam(USER)
    for name in ("runtime", "config"):
        (directory / name).mkdir(mode=0o700)
        os.chown(directory / name, alice.pw_uid, alice.pw_gid)
    # The server's own config: alice's config dir, so the venv's (the extension) still counts.
    server_config = {
        "SlurmProvisioner": {
            "grace_period": GRACE_PERIOD,
            "heartbeat_interval": 1.0,
            "job_name": job_name,
            "walltime_warning": 0,
            # A SIGKILLed server's successor ends its kernels here (the take-over is
            # test_kernel_reattach.py's): the clean-up, file by file.
            "reattach": False,
        },
        "RemoteKernels": {
            "default_resources": {"partition": "compute", "time": 600},
            "watch_interval": 0.5,
        },
    }
    server_config_file = directory / "config" / "jupyter_server_config.json"
    server_config_file.write_text(json.dumps(server_config))
    os.chown(server_config_file, alice.pw_uid, alice.pw_gid)
    environment = {
        "JUPYTER_PATH": str(directory / "prefix" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(directory / "runtime"),
        "JUPYTER_CONFIG_DIR": str(directory / "config"),
    }
    services = [{"name": "hpc-test", "api_token": token}]
    scopes = ["admin:users", "admin:servers", "admin:server_state", "access:servers"]
    config = directory / "jupyterhub_config.py"
    config.write_text(hub_config_text(directory, port, [USER], environment, services, scopes))
    return config, port, token


def hub_config_text(  # noqa: PLR0917 - one hub's every choice the tests make
    directory: Path,
    port: int,
    users: list[str],
    server_environment: dict[str, str],
    services: list[dict[str, Any]],
    test_scopes: list[str],
) -> str:
    """A hub on loopback ports, its state in ``directory``, spawning the venv's
    jupyterhub-singleuser for ``users``; ``services[0]`` is the tests' own, with
    ``test_scopes``."""
    hub_port, proxy_api_port = _free_port(), _free_port()
    return f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{directory}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{directory}/cookie_secret"
c.JupyterHub.pid_file = "{directory}/hub.pid"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = ["{PROXY}"]
c.ConfigurableHTTPProxy.pid_file = "{directory}/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = ["{BIN / "jupyterhub-singleuser"}"]
c.Spawner.environment = {server_environment!r}
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.JupyterHub.services = {services!r}
c.JupyterHub.load_roles = [{{
    "name": "{services[0]["name"]}",
    "scopes": {test_scopes!r},
    "services": ["{services[0]["name"]}"],
}}]
"""


@pytest.fixture(scope="module")
def hub(cluster: dict[str, Any]) -> Iterator[Hub]:  # needs the cluster up
    if CLUSTER_PREFIX:
        pytest.skip("the hub's server calls the host's Slurm; not another release's cluster")
    if not PROXY.exists():
        message = f"no configurable-http-proxy at {PROXY}: run `make hub-proxy`"
        if os.environ.get("HPC_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="hpc-hub-"))
    directory.chmod(0o755)  # alice reads the kernelspec under it
    job_name = f"pytest-hub-kernel-{uuid.uuid4().hex[:8]}"
    install(
        KERNEL_NAME,
        JobResources(partition="compute", time=600),
        display_name="Python 3 (compute node, hub test)",
        prefix=str(directory / "prefix"),
    )
    config, port, token = _write_config(directory, job_name)
    log = directory / "hub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config)],
            cwd=directory,
            stdin=subprocess.DEVNULL,  # and so the servers' stdin: no TTY
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(directory, port, token, job_name, process, log)
    try:
        wait_for(lambda: hub_answers(hub), 30, "the hub answers")
        yield hub
    finally:
        _stop_hub(hub)


def hub_answers(hub: Hub) -> bool:
    assert hub.process.poll() is None, f"the hub exited:\n{hub.log_text()[-3000:]}"
    try:
        return hub.request("hub/api/")[0] == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def _stop_hub(hub: Hub) -> None:
    """The hub (it stops alice's server), its proxy and every job of the test; then files."""
    with contextlib.suppress(Exception):
        if hub.server() is not None:
            hub.stop_server()
    hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(20)
    except subprocess.TimeoutExpired:
        hub.process.kill()
        hub.process.wait()
    with contextlib.suppress(OSError, ValueError):
        proxy_pid = int((hub.directory / "proxy.pid").read_text())
        if alive(proxy_pid):
            os.kill(proxy_pid, signal.SIGTERM)
    for server_pid in _server_pids(hub):
        with contextlib.suppress(OSError):
            os.kill(server_pid, signal.SIGKILL)
    jobs = slurm(
        "sacct", "--noheader", "--allocations", f"--name={hub.job_name}", "--format=JobID"
    ).split()
    subprocess.run(["scancel", f"--name={hub.job_name}"], capture_output=True, check=False)
    for job_id in jobs:
        (HANDOFF_DIR / f"kernel-{job_id}.log").unlink(missing_ok=True)
    if os.environ.get("HPC_KEEP_HUB_DIR") != "1":  # to read its hub.log after a failure
        shutil.rmtree(hub.directory, ignore_errors=True)


def _server_pids(hub: Hub) -> list[int]:
    """alice's single-user servers of this hub (left only if a test failed half-way)."""
    needle = str(hub.runtime_dir).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
    return pids


@pytest.fixture
def server(hub: Hub) -> Iterator[int]:
    """alice's server, started for the test; its pid. Stopped afterwards if still running."""
    pid = hub.start_server()
    yield pid
    if hub.server() is not None:
        hub.stop_server()
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def start_jupyter_kernel(hub: Hub) -> tuple[str, str]:
    """A kernel of the Slurm kernelspec through Jupyter's own /api/kernels, answering; its
    id and its job."""
    before = hub.jobs()
    code, kernel = hub.api("api/kernels", "POST", {"name": KERNEL_NAME})
    assert code == 201, kernel
    (job_id,) = hub.jobs() - before  # the start returns once the launcher called back
    reply = asyncio.run(kernel_info(hub, kernel["id"]))
    assert reply["content"]["status"] == "ok", reply
    return kernel["id"], job_id


async def kernel_info(hub: Hub, kernel_id: str) -> dict[str, Any]:
    """The kernel's kernel_info_reply, over the server's websocket (through the proxy)."""
    request = HTTPRequest(
        f"ws://127.0.0.1:{hub.port}/user/{USER}/api/kernels/{kernel_id}/channels",
        headers={"Authorization": f"token {hub.token}"},
    )
    connection = await asyncio.wait_for(websocket_connect(request), 30)
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "kernel_info_request", "session": msg_id,
              "username": USER, "version": "5.3", "date": ""}  # fmt: skip
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": {},
               "channel": "shell", "buffers": []}  # fmt: skip
    try:
        await connection.write_message(json.dumps(message))
        while True:
            text = await asyncio.wait_for(connection.read_message(), 30)
            assert text is not None, "the websocket closed"
            reply: dict[str, Any] = json.loads(text)
            if reply["parent_header"].get("msg_id") == msg_id and reply["channel"] == "shell":
                return reply
    finally:
        connection.close()


def start_remote_kernel(hub: Hub) -> str:
    """A remote kernel through /hpc/kernels (it leaves a record for a successor); its id."""
    code, kernel = hub.api("hpc/kernels", "POST", {"kernel_name": "python3"})
    assert code == 202, kernel
    return str(kernel["id"])


def until_ready(hub: Hub, kernel_id: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        code, kernel = hub.api(f"hpc/kernels/{kernel_id}")
        assert code == 200, kernel
        assert kernel["state"] in {"queued", "starting", "ready"}, kernel
        return kernel if kernel["state"] == "ready" else None

    kernel: dict[str, Any] = wait_for(ready, 60, f"remote kernel {kernel_id} ready")
    return kernel


def assert_ended_cleanly(hub: Hub, job_id: str, kernel_id: str, stopped_at: float) -> None:
    wait_for(lambda: not queued(job_id), ENDS_WITHIN, f"job {job_id} ended")
    assert time.monotonic() - stopped_at < ENDS_WITHIN  # not the launcher's grace period
    state = wait_for(lambda: final_state(job_id), 20, f"job {job_id} in accounting")
    assert state in {"COMPLETED", "CANCELLED"}, state
    wait_for(lambda: not processes_of_job(job_id), 5, f"no process of job {job_id}")
    assert not (hub.runtime_dir / f"kernel-{kernel_id}.json").exists()


def test_the_hubs_stop_ends_the_kernels_job_at_once(hub: Hub, server: int) -> None:
    kernel_id, job_id = start_jupyter_kernel(hub)
    assert (hub.runtime_dir / f"kernel-{kernel_id}.json").exists()
    assert processes_of_job(job_id)
    stopped_at = time.monotonic()
    took = hub.stop_server()  # SIGINT, without a TTY
    assert took < 10, "the server outlived the hub's SIGINT (interrupt_timeout)"
    assert not alive(server)
    assert_ended_cleanly(hub, job_id, kernel_id, stopped_at)
    assert not (hub.runtime_dir / f"jpserver-{server}.json").exists()
    assert "received signal 2, stopping" in hub.log_text()
    assert not list(hub.state_dir.glob("*.json"))  # no record left for a successor


def test_sigterm_ends_the_remote_kernels_job_at_once(hub: Hub, server: int) -> None:
    kernel_id, job_id = start_jupyter_kernel(hub)
    remote_id = start_remote_kernel(hub)
    remote_job = until_ready(hub, remote_id)["job_id"]
    stopped_at = time.monotonic()
    os.kill(server, signal.SIGTERM)  # systemd's stop, the hub's second signal
    wait_for(lambda: not alive(server), 10, "the server exited on SIGTERM")
    assert_ended_cleanly(hub, job_id, kernel_id, stopped_at)
    assert_ended_cleanly(hub, remote_job, remote_id, stopped_at)
    assert not (hub.runtime_dir / f"jpserver-{server}.json").exists()
    assert not list(hub.state_dir.glob("*.json"))  # no record left for a successor
    assert not hub.server_record(server).exists()


def test_a_sigkilled_servers_successor_ends_its_jobs_and_removes_its_files(
    hub: Hub, server: int, old_logs: tuple[Path, Path]
) -> None:
    api, api_job = start_jupyter_kernel(hub)  # recorded too, but not listed
    running, ended = start_remote_kernel(hub), start_remote_kernel(hub)
    code, local = hub.api("api/kernels", "POST", {"name": "python3"})  # on the login node
    assert code == 201, local
    local_connection = hub.runtime_dir / f"kernel-{local['id']}.json"
    running_job = until_ready(hub, running)["job_id"]
    ended_job = until_ready(hub, ended)["job_id"]
    wait_for((hub.state_dir / f"{api}.json").exists, 5, "the /api/kernels record")
    left = [
        local_connection,
        hub.runtime_dir / f"kernel-{api}.json",
        hub.state_dir / f"{api}.json",
        hub.runtime_dir / f"kernel-{running}.json",
        hub.runtime_dir / f"kernel-{ended}.json",
        hub.state_dir / f"{running}.json",
        hub.state_dir / f"{ended}.json",
        hub.runtime_dir / f"jpserver-{server}.json",
        hub.server_record(server),
    ]
    assert all(path.exists() for path in left), [str(p) for p in left if not p.exists()]
    expired, recent = old_logs
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: not alive(server), 5, "the server died")
    # ipykernel exits when its parent does; its connection file stays.
    wait_for(lambda: not processes_naming(local_connection), 10, "the local kernel exited")
    subprocess.run(["scancel", ended_job], check=True)  # it ends while no server runs
    wait_for(lambda: final_state(ended_job), 20, f"job {ended_job} ended")
    assert queued(running_job)  # its launcher waits out the grace period
    assert (HANDOFF_DIR / f"kernel-{ended_job}.log").exists()

    hub.stop_server()  # the hub notices its server is gone
    stopped_at = time.monotonic()
    hub.start_server()
    assert_cancelled_at_once(running_job, stopped_at)
    assert_cancelled_at_once(api_job, stopped_at)

    code, listing = hub.api("hpc/kernels")
    assert code == 200, listing
    reasons = {kernel["id"]: kernel["reason"] for kernel in listing["kernels"]}
    assert set(reasons) == {running, ended}  # not the one of Jupyter's own API
    assert reasons[running] == (
        f"The Jupyter server that started it stopped; its Slurm job {running_job} was cancelled."
    )
    assert reasons[ended] == (
        f"The Jupyter server that started it stopped; its Slurm job {ended_job} "
        "had already ended (CANCELLED)."
    )
    log = hub.log_text()
    assert f"its Slurm job {running_job} was cancelled" in log
    assert f"its Slurm job {api_job} was cancelled" in log
    assert f"its Slurm job {ended_job} had already ended (CANCELLED)" in log
    assert f"its Slurm job {ended_job} was cancelled" not in log

    assert [str(path) for path in left if path.exists()] == []
    assert not list(hub.runtime_dir.glob(f"jpserver-{server}*"))
    # The cancelled kernel's log tells nothing; the dead one's is kept, as are recent ones.
    assert not (HANDOFF_DIR / f"kernel-{running_job}.log").exists()
    assert (HANDOFF_DIR / f"kernel-{ended_job}.log").exists()
    assert not expired.exists()
    assert recent.exists()


@pytest.fixture
def old_logs() -> Iterator[tuple[Path, Path]]:
    """Logs of kernels that died 8 days ago and 6 days ago (their jobs long gone)."""
    alice = pwd.getpwnam(USER)
    expired = HANDOFF_DIR / f"kernel-{90_000_000 + os.getpid()}.log"
    recent = HANDOFF_DIR / f"kernel-{91_000_000 + os.getpid()}.log"
    for path, age_days in ((expired, 8), (recent, 6)):
        path.write_text("a kernel that died\n")
        os.chown(path, alice.pw_uid, alice.pw_gid)
        then = time.time() - age_days * 86400
        os.utime(path, (then, then))
    yield expired, recent
    expired.unlink(missing_ok=True)
    recent.unlink(missing_ok=True)


def assert_cancelled_at_once(job_id: str, since: float) -> None:
    wait_for(lambda: not queued(job_id), ENDS_WITHIN, f"job {job_id} ended")
    assert time.monotonic() - since < ENDS_WITHIN
    assert wait_for(lambda: final_state(job_id), 20, f"job {job_id} in accounting") == "CANCELLED"
    wait_for(lambda: not processes_of_job(job_id), 5, f"no process of job {job_id}")
