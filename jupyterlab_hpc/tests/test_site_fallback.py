"""alice's server with ``c.HPCExtension.site_url`` set, on the real cluster: it reads through
the site service while the service answers it, asks Slurm itself while it does not (and says
so on /hpc/status), and passes Slurm's own outage on as a 503."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.app import MIN_SITE_RETRY
from jupyterlab_hpc.tests.cluster_faults import daemon_stopped
from jupyterlab_hpc.tests.conftest import SERVER_USER, SubmitJob, as_user
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi
from jupyterlab_hpc.tests.server_process import free_port, site_service_process, wait_for_port
from jupyterlab_hpc.tests.test_site_service import site_config

pytestmark = pytest.mark.cluster

# squeue gives up on a stopped slurmctld after about 9 s of retries (see test_faults.py).
TIMEOUT = 20.0
# The routes whose data comes from the site service when it answers.
ROUTES = ("status", "jobs", "partitions", "quotas", "announcements")


@pytest.fixture
def site_port() -> int:
    return free_port()


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], site_port: int) -> dict[str, Any]:
    slurm = {**jp_server_config["SlurmConnection"], "timeout": TIMEOUT}
    extension = {**jp_server_config["HPCExtension"], "site_url": f"http://127.0.0.1:{site_port}"}
    return {**jp_server_config, "SlurmConnection": slurm, "HPCExtension": extension}


@pytest.fixture
def site_service(
    cluster: dict[str, Any], site_port: int, tmp_path: Path
) -> Callable[[], AbstractContextManager[str]]:
    """Starts the site service on the port alice's server is configured with, when called."""

    @contextmanager
    def running() -> Iterator[str]:
        with site_service_process(tmp_path, site_config(cluster["site_user"]), site_port) as url:
            yield url

    return running


async def get(jp_fetch: Any, route: str, **params: str) -> tuple[int, Any]:
    response = await jp_fetch("hpc", route, params=params, raise_error=False)
    assert_matches_openapi(f"/hpc/{route}", "GET", response.code, response.body)
    return response.code, json.loads(response.body)


async def site_of(jp_fetch: Any) -> dict[str, Any]:
    code, status = await get(jp_fetch, "status")
    assert code == 200
    return dict(status["site"])


async def job_ids(jp_fetch: Any) -> set[str]:
    code, body = await get(jp_fetch, "jobs", scope="mine")
    assert code == 200, body
    return {job["id"] for job in body["jobs"]}


def squeue_calls(command_log: Path) -> int:
    if not command_log.exists():
        return 0
    return sum(" squeue " in f" {line} " for line in command_log.read_text().splitlines())


async def test_without_the_service_the_server_asks_slurm_and_says_why(
    jp_fetch: Any, submit_job: SubmitJob, command_log: Path, site_port: int
) -> None:
    job_id = submit_job(SERVER_USER, "--hold")

    assert job_id in await job_ids(jp_fetch)
    assert squeue_calls(command_log) >= 1
    site = await site_of(jp_fetch)
    assert site["site_url"] == f"http://127.0.0.1:{site_port}"
    assert site["via_site"] is False
    assert "unreachable" in site["problem"]


async def test_the_server_reads_through_the_service_once_it_answers_and_falls_back_when_it_stops(
    jp_fetch: Any, submit_job: SubmitJob, command_log: Path, site_service: Any
) -> None:
    job_id = submit_job(SERVER_USER, "--hold")
    assert job_id in await job_ids(jp_fetch)  # the service is not there yet: Slurm directly
    assert (await site_of(jp_fetch))["via_site"] is False

    with site_service():
        # The server tries the service again MIN_SITE_RETRY s after it found it missing.
        await asyncio.sleep(MIN_SITE_RETRY + 0.5)
        assert job_id in await job_ids(jp_fetch)
        site = await site_of(jp_fetch)
        assert (site["via_site"], site["problem"]) == (True, None)
        before = squeue_calls(command_log)
        for _ in range(5):
            assert job_id in await job_ids(jp_fetch)
            await get(jp_fetch, "partitions")
            await get(jp_fetch, "quotas")
        assert squeue_calls(command_log) == before  # no read of its own while the service answers

    # The service is gone: the very next read is Slurm's own, with the same job in it.
    assert job_id in await job_ids(jp_fetch)
    assert squeue_calls(command_log) > before
    site = await site_of(jp_fetch)
    assert site["via_site"] is False
    assert site["problem"]


@pytest.mark.faults
async def test_slurmctld_down_reaches_the_user_through_the_service_as_a_503(
    jp_fetch: Any, site_service: Any, tmp_path: Path
) -> None:
    with site_service():
        assert (await get(jp_fetch, "jobs"))[0] == 200
        assert (await site_of(jp_fetch))["via_site"] is True
        async with daemon_stopped("slurmctld"):
            deadline = time.monotonic() + 2 * TIMEOUT
            while (answer := await get(jp_fetch, "jobs"))[0] == 200:
                assert time.monotonic() < deadline, "the service kept answering 200"
                await asyncio.sleep(0.5)
            second = await get(jp_fetch, "jobs")
            site = await site_of(jp_fetch)

    assert answer[0] == 503
    assert "Unable to contact slurm controller" in answer[1]["message"]
    assert second[0] == 503
    # The service answered (with Slurm's refusal): no reason to ask Slurm directly.
    assert site["via_site"] is True
    outages = [
        line for line in (tmp_path / "site.log").read_text().splitlines()
        if "Slurm cannot be reached" in line
    ]  # fmt: skip
    assert len(outages) == 1


class TestAServerTheServiceCannotAuthenticate:
    """Its MUNGE credential is forged (its ``munge`` prints junk): the service refuses it with
    a 401, the server logs why and asks Slurm itself."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
        forger = tmp_path / "forge-munge"
        forger.write_text(
            "#!/bin/sh\n"
            'if [ "$1" = munge ]; then echo "MUNGE:not-a-credential:"; exit 0; fi\n'
            f'exec {shlex.join(as_user(SERVER_USER))} "$@"\n'
        )
        forger.chmod(0o755)
        slurm = {**jp_server_config["SlurmConnection"], "command_prefix": [str(forger)]}
        return {**jp_server_config, "SlurmConnection": slurm}

    async def test_it_logs_the_refusal_and_asks_slurm(
        self,
        jp_fetch: Any,
        submit_job: SubmitJob,
        site_service: Any,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO)
        job_id = submit_job(SERVER_USER, "--hold")
        with site_service():
            assert job_id in await job_ids(jp_fetch)
            site = await site_of(jp_fetch)

        assert site["via_site"] is False
        assert "401" in site["problem"]
        assert "Not authenticated" in site["problem"]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("site service is not used" in line and "401" in line for line in warnings)
        assert "refused a session" in (tmp_path / "site.log").read_text()


# bob's impostor: listens where alice's server expects the site service, answers everything,
# proves an identity with bob's own MUNGE credential, and writes down what it is sent.
IMPOSTOR = r"""
import http.server, json, subprocess, sys
from urllib.parse import parse_qs, urlsplit

port, log_path = int(sys.argv[1]), sys.argv[2]

class Impostor(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(log_path, "a") as log:
            print(self.command, self.path, repr(self.headers.get("Authorization")), file=log)
        url = urlsplit(self.path)
        if url.path == "/api/identity":
            challenge = parse_qs(url.query)["challenge"][0]
            payload = f"jupyterlab-hpc site service: {challenge}".encode()
            munge = subprocess.run(["munge"], input=payload, capture_output=True, check=True)
            body = {"credential": munge.stdout.decode().strip()}
        elif url.path == "/api/session":
            body = {"token": "forged", "user": "alice", "expires_in": 3600}
        else:
            body = {"items": [{"unexpected": True}], "updated": 0}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = answer

http.server.HTTPServer(("127.0.0.1", port), Impostor).serve_forever()
"""


@contextmanager
def impostor_as(user: str, port: int) -> Iterator[Path]:
    """IMPOSTOR run as ``user`` on ``port``; the file it writes its requests to."""
    workdir = Path(tempfile.mkdtemp(prefix="impostor-", dir="/tmp"))  # pytest's is root's
    shutil.chown(workdir, user)
    log = workdir / "requests.log"
    impostor = subprocess.Popen(
        [*as_user(user), "/usr/bin/python3", "-c", IMPOSTOR, str(port), str(log)],
        start_new_session=True,
    )
    try:
        wait_for_port(port, impostor)
        yield log
    finally:
        os.killpg(impostor.pid, signal.SIGKILL)
        impostor.wait()
        shutil.rmtree(workdir)


async def test_bobs_process_on_the_services_port_gets_no_proof_and_serves_nothing(
    jp_fetch: Any,
    submit_job: SubmitJob,
    site_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the service is down, bob listens on its port. alice's server asks it to prove
    it runs as hpcsite; bob's MUNGE credential says bob: alice's server sends him neither a
    credential nor her hub token, reads nothing from him, and asks Slurm itself."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "alices-hub-token")
    job_id = submit_job(SERVER_USER, "--hold")
    with impostor_as("bob", site_port) as log:
        jobs = await job_ids(jp_fetch)
        site = await site_of(jp_fetch)
        requests = log.read_text()

    assert job_id in jobs  # from Slurm, not from bob's listing
    assert site["via_site"] is False
    assert "does not run as hpcsite" in site["problem"]
    lines = requests.splitlines()
    assert lines
    assert all(line.startswith("GET /api/identity?challenge=") for line in lines)
    assert all(line.endswith(" None") for line in lines)  # no Authorization header
    assert "alices-hub-token" not in requests


async def test_a_service_answering_what_is_no_record_is_left_not_followed_into_a_500(
    jp_fetch: Any, submit_job: SubmitJob, site_port: int, cluster: dict[str, Any]
) -> None:
    """The right account, the wrong answers (a service of another release, say): every route
    of alice's server still answers, from Slurm, and the status says what was wrong."""
    job_id = submit_job(SERVER_USER, "--hold")
    with impostor_as(cluster["site_user"], site_port):
        jobs = await job_ids(jp_fetch)
        codes = {route: (await get(jp_fetch, route))[0] for route in ROUTES}
        site = await site_of(jp_fetch)

    assert job_id in jobs
    assert codes == dict.fromkeys(ROUTES, 200)
    assert site["via_site"] is False
    assert "with no records" in site["problem"]
