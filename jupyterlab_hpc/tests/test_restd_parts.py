"""The slurmrestd backend's pure parts: #SBATCH translation, tokens, API version choice, and
each API version's answers as captured from real slurmrestds (cluster/capture_restd.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.slurm.errors import (
    InvalidRequest,
    SlurmPermissionDenied,
    SlurmUnavailable,
    error_from_stderr,
)
from jupyterlab_hpc.slurm.restd.backend import newest_supported_version
from jupyterlab_hpc.slurm.restd.client import (
    RestClient,
    TokenSource,
    renewal_time,
    token_from_output,
)
from jupyterlab_hpc.slurm.restd.dialects import Dialect, dialect
from jupyterlab_hpc.slurm.restd.parse import (
    parse_job_details,
    parse_jobs,
    parse_partitions,
    parse_reservations,
    parse_user_accounts,
)
from jupyterlab_hpc.slurm.restd.submit import job_properties, job_properties_v40, time_minutes

CAPTURED = Path(__file__).parent / "captured"
# The releases whose slurmrestd answers are captured, and the API version each one speaks.
CAPTURED_RELEASES = {"24.11": "v0.0.42", "26.05": "v0.0.45"}

SCRIPT = """#!/bin/bash
#SBATCH -J analysis --partition=compute  # a comment
#SBATCH -A proj2 -t 1-02:30 --mem=2G -c 4
#SBATCH --output=logs/%j.out --hold
#SBATCH -N 2-3
echo start
#SBATCH --account=ignored-after-the-first-command
"""


def properties(script: str) -> dict[str, object]:
    return job_properties(
        script, script_path="/home/a/run.sh", work_dir="/home/a/p", environment={}
    )


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("1:30", 2), ("2:00:00", 120), ("1-0", 1440), ("1-2:30", 1590), ("0-0:0:1", 1)],
)
def test_sbatch_time_forms_become_whole_minutes_rounded_up(text: str, minutes: int) -> None:
    assert time_minutes(text) == minutes


def test_sbatch_lines_up_to_the_first_command_become_job_properties() -> None:
    job = properties(SCRIPT)

    assert job == {
        "name": "analysis",
        "partition": "compute",
        "account": "proj2",
        "time_limit": 1590,
        "memory_per_node": 2048,
        "cpus_per_task": 4,
        "standard_output": "/home/a/p/logs/%j.out",
        "hold": True,
        "nodes": [2, 3],
        "current_working_directory": "/home/a/p",
        "environment": {},
    }


def test_a_script_without_options_is_named_after_its_file() -> None:
    assert properties("#!/bin/sh\nhostname\n")["name"] == "run.sh"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("#SBATCH --export=NONE", "not supported with the slurmrestd backend"),
        ("#SBATCH --time=soon", "not a time limit"),
        ("#SBATCH --mem", "needs a value"),
        ("#SBATCH hostname", "Not an sbatch option"),
    ],
)
def test_an_option_that_cannot_be_translated_refuses_the_submission(line: str, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        properties(f"#!/bin/bash\n{line}\n")


def jwt(claims: dict[str, int]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.signature"


def test_the_token_is_read_from_scontrols_output_or_bare() -> None:
    assert token_from_output("SLURM_JWT=abc.def.ghi\n") == "abc.def.ghi"
    assert token_from_output("abc.def.ghi\n") == "abc.def.ghi"
    with pytest.raises(SlurmUnavailable):
        token_from_output("scontrol: error: something\n")


def test_a_token_is_renewed_before_it_expires_and_unreadable_ones_every_time() -> None:
    assert renewal_time(jwt({"iat": 1000, "exp": 2000}), now=1500) == 1800
    assert renewal_time("not-a-jwt", now=1500) == 1500


def test_the_newest_api_version_both_sides_know_is_chosen() -> None:
    openapi: dict[str, Any] = {
        "paths": {f"/slurm/{v}/jobs": {} for v in ("v0.0.36", "v0.0.37", "v0.0.38")}
    }
    assert newest_supported_version(openapi) == "v0.0.38"
    with pytest.raises(SlurmUnavailable, match=r"offers v0\.0\.39"):
        newest_supported_version({"paths": {"/slurm/v0.0.39/jobs": {}}})


def test_an_api_version_this_backend_cannot_read_is_refused_by_name() -> None:
    with pytest.raises(SlurmUnavailable, match=r"v0\.0\.39 is not one this backend reads"):
        dialect("v0.0.39")


def captured(release: str, what: str) -> dict[str, Any]:
    name = f"restd_{CAPTURED_RELEASES[release]}_{what}.json"
    answer: dict[str, Any] = json.loads((CAPTURED / f"slurm-{release}" / name).read_text())
    return answer


def captured_job_id(release: str, what: str) -> str:
    return str(captured(release, what)["jobs"][0]["job_id"])


def release_dialect(release: str) -> Dialect:
    return dialect(CAPTURED_RELEASES[release])


captured_releases = pytest.mark.parametrize("release", sorted(CAPTURED_RELEASES))


@captured_releases
def test_the_newest_version_a_real_slurmrestd_offers_is_chosen(release: str) -> None:
    offer = json.loads((CAPTURED / f"slurm-{release}" / "restd_openapi_paths.json").read_text())

    assert newest_supported_version(offer) == CAPTURED_RELEASES[release]


@captured_releases
def test_a_captured_job_list_reads_as_squeue_lists_it(release: str) -> None:
    held_array = captured_job_id(release, "job_held_array")
    later = captured_job_id(release, "job_later")
    failed = captured_job_id(release, "job_failed")
    jobs = {
        job.id: job
        for job in parse_jobs(
            captured(release, "jobs"), release_dialect(release), now=2e9, queued_only=True
        )
    }

    assert failed not in jobs
    array = jobs[f"{held_array}_[1-3%1]"]
    assert (array.state, array.reason, array.gpus) == ("PENDING", "JobHeldUser", 1)
    assert (array.array_job_id, array.array_task_id) == (held_array, "1-3%1")
    running = next(job for job in jobs.values() if job.name == "running job")
    assert (running.state, running.nodes, running.time_limit) == ("RUNNING", "n1", 300)
    assert running.start_time is not None
    assert (running.elapsed or 0) > 0
    expanded = f"/tmp/capture-{later}-capture.out"
    patterns = release_dialect(release).lists_output_patterns
    assert jobs[later].stdout == ("/tmp/capture-%j-%x.out" if patterns else expanded)


@captured_releases
def test_a_captured_finished_job_has_its_exit_code_and_pending_ones_their_files(
    release: str,
) -> None:
    read = release_dialect(release)
    [failed] = parse_job_details(captured(release, "job_failed"), read, now=2e9)
    [later] = parse_job_details(captured(release, "job_later"), read, now=2e9)
    array_id = captured_job_id(release, "job_held_array")
    [array] = parse_job_details(captured(release, "job_held_array"), read, now=2e9)

    assert (failed.job.state, failed.job.exit_code, failed.job.time_limit) == ("FAILED", "3:0", 60)
    assert failed.job.stdout == "/dev/null"
    assert failed.estimated_start is None
    assert later.job.stdout == f"/tmp/capture-{later.job.id}-capture.out"
    assert later.estimated_start is not None
    # A pending array's tasks are not numbered yet: Slurm writes NO_VAL into the name.
    assert array.job.stdout == f"/tmp/slurm-{array_id}_4294967294.out"


@captured_releases
def test_captured_partitions_count_their_nodes_cpus_and_gpus(release: str) -> None:
    read = release_dialect(release)
    partitions = {
        partition.name: partition
        for partition in parse_partitions(
            captured(release, "partitions"), captured(release, "nodes"), read
        )
    }

    debug, compute = partitions["debug"], partitions["compute"]
    assert (debug.nodes.total, debug.cpus.total, debug.gpus.total) == (2, 4, 0)
    assert (compute.nodes.total, compute.cpus.total, compute.gpus.total) == (4, 8, 4)
    assert (debug.max_time, debug.default_time, compute.max_time) == (1800, 300, 86400)
    assert (debug.state, debug.memory_mb) == ("UP", 4000)
    # Only v0.0.45 sends partition flags; before, no partition is known as the default.
    assert debug.default == read.sends_partition_flags
    assert not compute.default


@captured_releases
def test_a_captured_maintenance_reservation_keeps_its_flags(release: str) -> None:
    [reservation] = parse_reservations(
        captured(release, "reservations"), release_dialect(release), now=0
    )

    assert (reservation.name, reservation.nodes, reservation.state) == (
        "capture_restd_maint",
        "n[1-4]",
        "INACTIVE",
    )
    assert "MAINT" in reservation.flags


@captured_releases
def test_captured_associations_give_alices_accounts_and_default(release: str) -> None:
    assert parse_user_accounts(captured(release, "associations"), "alice") == (
        ("proj1", "proj2"),
        "proj1",
    )


@captured_releases
def test_a_refused_cancel_in_a_successful_answer_is_slurms_refusal(release: str) -> None:
    refusal = release_dialect(release).signal_refusal(captured(release, "cancel_denied"))

    assert refusal == "Access/permission denied"
    assert isinstance(error_from_stderr(refusal), SlurmPermissionDenied)


@captured_releases
def test_the_release_is_read_from_a_captured_answer(release: str) -> None:
    assert release_dialect(release).release(captured(release, "ping")).startswith(release)


def test_newer_api_versions_get_gpus_as_tres_and_lists_where_v0_0_38_took_text() -> None:
    script = (
        "#!/bin/sh\n#SBATCH --gres=gpu:1 --gpus-per-task=1 --cpus-per-gpu=2 -N 2 --exclusive\n"
        "#SBATCH --mail-type=ALL --spread-job\n"
    )
    job = job_properties(script, script_path="/a/j.sh", work_dir="/a", environment={"A": "1"})

    assert job_properties_v40(job) == {
        "name": "j.sh",
        "current_working_directory": "/a",
        "environment": ["A=1"],
        "tres_per_node": "gres/gpu:1",
        "tres_per_task": "gres/gpu:1",
        "cpus_per_tres": "gres/gpu:2",
        "nodes": "2",
        "shared": ["none"],
        "mail_type": ["BEGIN", "END", "FAIL", "REQUEUE", "STAGE_OUT"],
        "flags": ["SPREAD_JOB"],
    }


A_TOKEN = "not-a-real-jwt"  # noqa: S105 - a stand-in the test server never checks


async def test_requests_share_one_kept_alive_connection() -> None:
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        body = b'{"ok": 1}'
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while await reader.readuntil(b"\r\n\r\n"):  # bodiless GETs
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tokens = TokenSource(token=A_TOKEN, command=[], timeout=5)
    client = RestClient(url=f"http://127.0.0.1:{port}", user_name="alice", tokens=tokens, timeout=5)
    try:
        answers = [await client.request("GET", "/slurm/v0.0.38/ping") for _ in range(3)]
    finally:
        await client.close()
        server.close()
        await server.wait_closed()

    assert answers == [{"ok": 1}] * 3
    assert connections == 1


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"url": "unix:run/slurmrestd.socket"}, "unix:/absolute/path"),
        ({"url": "ftp://slurm:6820"}, "Not an http"),
        ({"url": "https://slurm:6820", "ca_bundle": "/nonexistent.pem"}, "CA bundle"),
    ],
)
def test_a_url_or_ca_bundle_that_cannot_work_is_refused_saying_why(
    settings: dict[str, str], complaint: str
) -> None:
    tokens = TokenSource(token=A_TOKEN, command=[], timeout=5)
    with pytest.raises(SlurmUnavailable, match=complaint):
        RestClient(user_name="alice", tokens=tokens, timeout=5, **settings)  # type: ignore[arg-type]
