"""The site service as a JupyterHub managed service: it takes a per-user server's hub API token
as proof of its user, asking the hub whose the token is.

A real JupyterHub runs as root on loopback ports (as in test_hub_stop.py: DummyAuthenticator,
LocalProcessSpawner, configurable-http-proxy from ``make hub-proxy``) and starts
``jupyter hpc-site`` itself, which reads Slurm as the site's operator account (hpcsite) and
so gets JUPYTERHUB_API_TOKEN and JUPYTERHUB_API_URL from the hub. alice's server, spawned by
the hub, has ``c.HPCExtension.site_url`` pointing at the service.

- alice's server reads through the service (/hpc/status: via_site) and lists her held job;
  the service opened her session with her server's hub token, not with MUNGE.
- The service answers POST /api/session with 401 for a token the hub does not know, and with
  the token owner's name for tokens of alice and bob.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, as_user
from jupyterlab_hpc.tests.server_process import free_port
from jupyterlab_hpc.tests.test_hub_stop import BIN, PROXY, alive, hub_config_text, wait_for

pytestmark = pytest.mark.cluster

USERS = ("alice", "bob")


def http(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL of the test
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers or {},
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


@dataclass
class Hub:
    directory: Path
    port: int
    site_url: str
    token: str  # of the test's own service, an admin of users and servers
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        """The hub's API or a user's server, through the hub's proxy, with the test's token."""
        headers = {"Authorization": f"token {self.token}"}
        return http(f"http://127.0.0.1:{self.port}/{path}", method, headers, body)

    def session(self, authorization: str) -> tuple[int, Any]:
        """POST /api/session to the site service itself, as a per-user server does."""
        return http(f"{self.site_url}/api/session", "POST", {"Authorization": authorization}, {})

    def user_token(self, user: str) -> str:
        """A new hub API token of ``user``, made through the hub's API by the test's service."""
        body = {"note": "test_site_hub", "expires_in": 600, "scopes": [f"read:users!user={user}"]}
        code, answer = self.request(f"hub/api/users/{user}/tokens", "POST", body)
        assert code == 201, answer
        return str(answer["token"])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _hub_config(directory: Path, site_user: str) -> tuple[Path, int, str, str]:
    port, site_port = free_port(), free_port()
    site_url = f"http://127.0.0.1:{site_port}"
    token = uuid.uuid4().hex
    alice = pwd.getpwnam("alice")
    for name in ("runtime", "config"):
        (directory / name).mkdir(mode=0o700)
        os.chown(directory / name, alice.pw_uid, alice.pw_gid)
    # alice's server: reads through the service, proves itself to it with its hub token.
    server_config = directory / "config" / "jupyter_server_config.json"
    server_config.write_text(
        json.dumps({"HPCExtension": {"site_url": site_url, "site_user": site_user}})
    )
    os.chown(server_config, alice.pw_uid, alice.pw_gid)
    server_environment = {
        "JUPYTER_RUNTIME_DIR": str(directory / "runtime"),
        "JUPYTER_CONFIG_DIR": str(directory / "config"),
    }
    # The service: as root, it reads Slurm (and encodes its MUNGE identity) as the site's account.
    site_dir = directory / "site"
    site_dir.mkdir(mode=0o700)
    refresh = {f"{kind}_refresh": 1.0 for kind in ("jobs", "partitions", "quotas", "reservations")}
    site_config = {
        "HPCSiteApp": refresh,
        "SlurmConnection": {"command_prefix": as_user(site_user), "timeout": 20.0},
    }
    (site_dir / "jupyter_hpc_site_config.json").write_text(json.dumps(site_config))
    site_service: dict[str, Any] = {
        "name": "hpc-site",
        "url": site_url,
        "command": [str(BIN / "jupyter-hpc-site"), f"--HPCSiteApp.bind_url={site_url}"],
        "environment": {
            "JUPYTER_CONFIG_DIR": str(site_dir),
            "JUPYTER_RUNTIME_DIR": str(site_dir / "runtime"),
        },
    }
    # The site service's own token needs no scope: HubAuth asks GET /hub/api/user with the
    # token it checks, and every token may identify its owner.
    services = [{"name": "hpc-test", "api_token": token}, site_service]
    scopes = ["admin:users", "admin:servers", "access:servers", "tokens"]
    config = directory / "jupyterhub_config.py"
    config.write_text(
        hub_config_text(directory, port, list(USERS), server_environment, services, scopes)
    )
    return config, port, site_url, token


def _started_by(directory: Path) -> list[int]:
    """Processes whose environment names the test's directory: alice's servers, the service."""
    needle = str(directory).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def hub(cluster: dict[str, Any]) -> Iterator[Hub]:
    if CLUSTER_PREFIX:
        pytest.skip("the hub's server calls the host's Slurm; not another release's cluster")
    if not PROXY.exists():
        message = f"no configurable-http-proxy at {PROXY}: run `make hub-proxy`"
        if os.environ.get("HPC_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="hpc-site-hub-"))
    directory.chmod(0o755)
    config, port, site_url, token = _hub_config(directory, cluster["site_user"])
    log = directory / "hub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=output,  # and the managed service's output
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(directory, port, site_url, token, process, log)
    try:
        wait_for(lambda: _answers(hub), 30, "the hub answers")
        wait_for(lambda: "hpc-site: serving on" in hub.log_text(), 30, "the site service runs")
        yield hub
    finally:
        _stop(hub)


def _answers(hub: Hub) -> bool:
    assert hub.process.poll() is None, f"the hub exited:\n{hub.log_text()[-3000:]}"
    try:
        return hub.request("hub/api/")[0] == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def _stop(hub: Hub) -> None:
    """The hub (it stops alice's server and the service), its proxy, anything left; files."""
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
    for pid in _started_by(hub.directory):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if os.environ.get("HPC_KEEP_HUB_DIR") != "1":  # to read its hub.log after a failure
        shutil.rmtree(hub.directory, ignore_errors=True)


@pytest.fixture
def held_job() -> Iterator[str]:
    """A pending job of alice's, submitted by herself."""
    job_id = subprocess.run(
        [*as_user("alice"), "sbatch", "--parsable", "--hold", "--chdir=/tmp",
         "--output=/dev/null", "--job-name=pytest-site-hub", "--wrap=sleep 1"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    yield job_id
    subprocess.run(["scancel", job_id], capture_output=True, check=False)


def test_alices_server_reads_through_the_service_with_its_hub_token(
    hub: Hub, held_job: str
) -> None:
    assert "proof of user: MUNGE, hub tokens" in hub.log_text()
    before = len(hub.log_text())
    code, body = hub.request("hub/api/users/alice/server", "POST")
    assert code in {201, 202}, body

    def ready() -> bool:
        code, user = hub.request("hub/api/users/alice")
        assert code == 200, user
        server = user["servers"].get("")
        return bool(server and server["ready"])

    wait_for(ready, 60, "alice's server ready")

    def listed() -> bool:
        code, body = hub.request("user/alice/hpc/jobs?scope=mine")
        assert code == 200, body
        return held_job in {job["id"] for job in body["jobs"]}

    wait_for(listed, 20, f"alice's job {held_job} on /hpc/jobs", interval=0.5)
    code, status = hub.request("user/alice/hpc/status")
    assert code == 200, status
    assert status["site"] == {"site_url": hub.site_url, "via_site": True, "problem": None}
    log = hub.log_text()[before:]  # since alice's server started
    assert "hpc-site: session for alice (hub token)" in log
    assert "hpc-site: session for alice (MUNGE)" not in log
    assert "hpc-site: refused a session" not in log  # the hub token was the first try


def test_the_service_takes_only_tokens_the_hub_knows_each_for_its_owner(hub: Hub) -> None:
    code, body = hub.session(f"token {uuid.uuid4().hex}")
    assert code == 401, body
    assert "the hub does not know this token" in body["message"]
    code, body = hub.session("token ")
    assert code == 401, body
    for user in USERS:
        code, body = hub.session(f"token {hub.user_token(user)}")
        assert code == 200, body
        assert body["user"] == user
        assert body["token"]
    # A hub token is no session token: the service's reads take only its own.
    headers = {"Authorization": f"Bearer {hub.user_token('bob')}"}
    code, body = http(f"{hub.site_url}/api/jobs", headers=headers)
    assert code == 401, body
