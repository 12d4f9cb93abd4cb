"""GET /hpc/jobs/{id}/output when a job's output path is not alice's regular file: a FIFO, a
folder, a device, a symlink to a root-only file, a file alice cannot read. Real held jobs of
alice on the local cluster (held: the test makes the path, Slurm never writes it).

The server under test runs as root and could read all of these; the route must still serve
only what alice herself could read (services/jobs.py, read_output_file).
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.services import jobs as jobs_service
from jupyterlab_hpc.tests.conftest import SERVER_USER, SubmitJob
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster

ROUTE = "/hpc/jobs/{job_id}/output"
REGULAR_ONLY = "job output is read only from regular files"


def held_job(submit_job: SubmitJob, output: Path | str) -> str:
    return submit_job(SERVER_USER, "--hold", "--partition=debug", "--time=1", f"--output={output}")


def as_alice(path: Path) -> Path:
    """``path`` (not followed, if a symlink) handed to alice, as if she had made it."""
    alice = pwd.getpwnam(SERVER_USER)
    os.chown(path, alice.pw_uid, alice.pw_gid, follow_symlinks=False)
    return path


async def refusal(jp_fetch: Any, job_id: str) -> tuple[int, str]:
    """The status and message of a refused output request, checked against the document."""
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("hpc", "jobs", job_id, "output")
    response = refused.value.response
    assert response is not None
    assert_matches_openapi(ROUTE, "GET", refused.value.code, response.body)
    return refused.value.code, str(json.loads(response.body)["message"])


async def test_a_fifo_is_refused_at_once_and_the_server_answers_meanwhile(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    fifo = jp_root_dir / "out.fifo"
    os.mkfifo(fifo)
    job_id = held_job(submit_job, as_alice(fifo))
    # A server that waited for a writer again would block the whole event loop, the test's
    # requests included: a writer comes after 5 s, so such a server fails the test, not hangs it.
    writer = threading.Timer(5, lambda: os.close(os.open(fifo, os.O_RDWR)))
    writer.start()
    try:
        started = time.monotonic()
        output = asyncio.ensure_future(refusal(jp_fetch, job_id))
        await jp_fetch("api", "status")
        status_took = time.monotonic() - started
        code, message = await output
        output_took = time.monotonic() - started
    finally:
        writer.cancel()

    assert (code, message) == (400, f"{fifo} is a FIFO (named pipe): " + REGULAR_ONLY)
    assert status_took < 1
    assert output_took < 3  # squeue as alice, then the refusal


async def test_a_folder_is_refused(jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob) -> None:
    folder = jp_root_dir / "out.d"
    folder.mkdir()
    job_id = held_job(submit_job, as_alice(folder))

    assert await refusal(jp_fetch, job_id) == (400, f"{folder} is a directory: {REGULAR_ONLY}")


async def test_a_device_is_refused(jp_fetch: Any, submit_job: SubmitJob) -> None:
    job_id = held_job(submit_job, "/dev/zero")

    assert await refusal(jp_fetch, job_id) == (
        400,
        f"/dev/zero is a character device: {REGULAR_ONLY}",
    )


async def test_a_symlink_to_a_root_only_file_is_refused(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    link = jp_root_dir / "out.txt"
    link.symlink_to("/etc/shadow")
    job_id = held_job(submit_job, as_alice(link))

    assert await refusal(jp_fetch, job_id) == (
        403,
        f"{link} is a symbolic link: {REGULAR_ONLY}",
    )


async def test_a_root_only_file_reached_through_a_linked_folder_is_refused(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    folder = jp_root_dir / "logs"
    folder.symlink_to("/etc")
    job_id = held_job(submit_job, as_alice(folder) / "shadow")

    assert await refusal(jp_fetch, job_id) == (
        403,
        f"{folder}/shadow belongs to root, not to alice: not served",
    )


async def test_a_file_of_roots_in_alices_folder_is_refused(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    planted = jp_root_dir / "out.txt"
    shutil.copyfile("/etc/shadow", planted)
    planted.chmod(0o600)
    job_id = held_job(submit_job, planted)

    assert await refusal(jp_fetch, job_id) == (
        403,
        f"{planted} belongs to root, not to alice: not served",
    )


async def test_a_file_alice_may_not_read_is_refused(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    unreadable = jp_root_dir / "out.txt"
    unreadable.write_text("secret\n")
    unreadable.chmod(0o000)
    job_id = held_job(submit_job, as_alice(unreadable))

    assert await refusal(jp_fetch, job_id) == (
        403,
        f"{unreadable} cannot be read: its owner alice has no read permission",
    )


async def test_alices_own_file_is_served(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob
) -> None:
    output = jp_root_dir / "out.txt"
    output.write_text("hello\n")
    job_id = held_job(submit_job, as_alice(output))

    response = await jp_fetch("hpc", "jobs", job_id, "output")

    assert_matches_openapi(ROUTE, "GET", 200, response.body)
    assert json.loads(response.body)["data"] == "hello\n"


async def test_a_read_that_hangs_is_a_504_and_the_server_answers_meanwhile(
    jp_fetch: Any, jp_root_dir: Path, submit_job: SubmitJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hung network file system, which this machine has none of: a read that takes 3 s.
    def hung_read(*_: object) -> tuple[int, bytes, int]:
        time.sleep(3)
        return 0, b"", 0

    monkeypatch.setattr(jobs_service, "read_output_file", hung_read)
    monkeypatch.setattr(jobs_service, "OUTPUT_READ_TIMEOUT", 1.0)
    output = jp_root_dir / "out.txt"
    job_id = held_job(submit_job, output)

    started = time.monotonic()
    refused = asyncio.ensure_future(refusal(jp_fetch, job_id))
    await asyncio.sleep(0.5)  # the read has started
    await jp_fetch("api", "status")
    status_took = time.monotonic() - started
    code, message = await refused

    assert (code, message) == (504, f"Reading {output} took longer than 1 s")
    assert status_took < 1
    assert time.monotonic() - started < 2.5
