"""Job names, comments, work dirs and output paths no field can be forged with (real cluster).

Slurm stores and prints those as users give them: line breaks, the unit separator, ``Key=Value``
text. bob submits held jobs carrying such values; alice's views, through the REST routes and
with each backend, must show them as bob's jobs with exactly their values, list no job that is
not in the queue and hide none, and never serve alice their output. The parsers are also run
on squeue's and sacct's output for these jobs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR, query_separator, record_end
from jupyterlab_hpc.slurm.commands.job_detail import (
    parse_sacct_jobs,
    parse_squeue_jobs,
    sacct_job_argv,
    squeue_job_argv,
)
from jupyterlab_hpc.slurm.commands.squeue import SqueueParser, parse_jobs, squeue_argv
from jupyterlab_hpc.slurm.records import JobDetail
from jupyterlab_hpc.slurm.runner import command_environment
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, as_user, server_config_through

pytestmark = pytest.mark.cluster

ATTACKER = "bob"
VICTIM = "alice"
# An id no job of the shared cluster has: the forged records below claim it.
FORGED_ID = "999999"


def forged_record(separator: str, *, user: str = VICTIM, state: str = "RUNNING") -> str:
    """A whole squeue record as the backend once parsed them (every value followed by
    ``separator``), claiming job FORGED_ID of ``user``."""
    values = [FORGED_ID, FORGED_ID, "N/A", "forged", user, "proj1", "debug", "normal", state,
              "None", "2026-01-01T00:00:00", "2026-01-01T00:00:00", "2026-01-01T01:00:00",
              "1:00:00", "0:10", "n1", "1", "1", "cpu=1,mem=500M,node=1,billing=1", "/tmp",
              "/etc/shadow", "/etc/shadow"]  # fmt: skip
    assert len(values) == 22  # squeue.FIELDS and squeue.GIVEN_FIELDS
    return "".join(value + separator for value in values)


def forged_listing_record(separator: str) -> str:
    """The same record in the backend's layout (squeue.squeue_format), as it would be were
    ``separator`` the query's."""
    values = forged_record(SEPARATOR).split(SEPARATOR)[:-1]
    head = [*values[:3], *values[4:19]]
    given = [values[3], *values[19:]]
    return SEPARATOR.join(head) + separator + separator.join(given) + record_end(separator)


SCONTROL_LINES = "\n   UserId=alice(1001) GroupId=alice(1001) MCS_label=N/A\n   StdOut=/etc/shadow"
NONCE_LOOKALIKE = f"{SEPARATOR}0123456789abcdef"

# Job names, each submitted as bob. No "%" or "\": they are output patterns, not text.
NAMES = (
    f"x\n{forged_record(SEPARATOR)}",  # the reported attack: a fake alice RUNNING job
    f"x\n{forged_record(NONCE_LOOKALIKE)}",
    f"x\n{forged_listing_record(NONCE_LOOKALIKE)}\n{forged_listing_record(SEPARATOR)}",
    f"\n{forged_record(SEPARATOR)}\n",
    SCONTROL_LINES,
    "\n   UserId=alice(1001) ",
    "StdOut=/etc/shadow",
    f"unit{SEPARATOR}separator{SEPARATOR}{SEPARATOR}",
    f"lookalike{NONCE_LOOKALIKE}",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "\u202eevil.sh \u200f",
    "tab\tcarriage\rreturn\x0bvertical\x0cfeed\x1c\x1d\x1e\x85\u2028",
    "L" * 1024,
)
COMMENT = f"c\n   StdOut=/etc/shadow\n{forged_record(SEPARATOR)}"
# Folder names (made by bob under a folder of his) for --chdir, and file names for --output:
# anything but "/".
FORGED_FILE_NAME = forged_record(SEPARATOR).replace("/", "")
FOLDER_NAMES = (
    f"w\n{FORGED_FILE_NAME}",
    f"d{SCONTROL_LINES.replace('/', '')}",
    f"s{NONCE_LOOKALIKE}",
)
OUTPUT_NAMES = (
    f"o\n{FORGED_FILE_NAME}.out",
    f"o{SCONTROL_LINES.replace('/', '')}",
    f"o{SEPARATOR}x",
)


@dataclass(frozen=True)
class HostileJob:
    job_id: str
    name: str
    work_dir: str
    stdout: str


def sbatch_as_bob(*args: str) -> str:
    argv = [*as_user(ATTACKER), "sbatch", "--parsable", "--hold", "--partition=debug",
            "--time=5", *args, "--wrap=sleep 1"]  # fmt: skip
    completed = subprocess.run(argv, capture_output=True, check=True)
    return completed.stdout.decode().strip()


@pytest.fixture(scope="module")
def hostile_jobs(cluster: dict[str, Any]) -> Iterator[list[HostileJob]]:
    """bob's held jobs with hostile names, comments, work dirs and output paths."""
    base = Path(tempfile.mkdtemp(prefix="hpc-hostile-", dir="/tmp"))
    shutil.chown(base, ATTACKER, ATTACKER)
    jobs: list[HostileJob] = []
    try:
        for name in NAMES:
            job_id = sbatch_as_bob(f"--job-name={name}", f"--comment={COMMENT}",
                                   "--chdir=/tmp", "--output=/dev/null")  # fmt: skip
            jobs.append(HostileJob(job_id, name, "/tmp", "/dev/null"))
        for folder_name, output_name in zip(FOLDER_NAMES, OUTPUT_NAMES, strict=True):
            folder = base / folder_name
            folder.mkdir()
            shutil.chown(folder, ATTACKER, ATTACKER)
            output = f"{base}/{output_name}"
            job_id = sbatch_as_bob("--job-name=hostile-paths", f"--chdir={folder}",
                                   f"--output={output}")  # fmt: skip
            jobs.append(HostileJob(job_id, "hostile-paths", str(folder), output))
        yield jobs
    finally:
        if jobs:
            subprocess.run([*CLUSTER_PREFIX, "scancel", *(job.job_id for job in jobs)],
                           capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["commands", "slurmrestd"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jp_server_config(
    recording_prefix: list[str], backend_name: str, cluster: dict[str, Any]
) -> dict[str, Any]:
    """The server as alice, through each backend in turn."""
    return server_config_through(backend_name, recording_prefix, cluster)


async def get_json(jp_fetch: Any, *path: str, **params: str) -> Any:
    return json.loads((await jp_fetch("hpc", *path, params=params)).body)


def queued_job_ids() -> set[str]:
    """Every job id of the queue, as root sees it (``%i``: no user text in the output)."""
    output = subprocess.run(
        [*CLUSTER_PREFIX, "squeue", "--noheader", "--states=all", "--format=%i"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return set(output.split())


async def test_all_jobs_show_bobs_jobs_with_their_real_names_and_no_forged_ones(
    jp_fetch: Any, hostile_jobs: list[HostileJob]
) -> None:
    listed = (await get_json(jp_fetch, "jobs", scope="all"))["jobs"]

    by_id = {job["id"]: job for job in listed}
    assert len(by_id) == len(listed)  # no job twice
    for hostile in hostile_jobs:  # none hidden, none renamed or given to someone else
        job = by_id[hostile.job_id]
        assert (job["name"], job["user"], job["state"]) == (hostile.name, ATTACKER, "PENDING")
        assert job["work_dir"] == hostile.work_dir
    assert FORGED_ID not in by_id
    assert not [job for job in listed if job["name"] == "forged"]
    # Every job listed is in the queue: its id, or for an array task whose pending rest started
    # meanwhile, its array's id (taken after the listing: jobs submitted since are in it too).
    queued = {job_id.partition("_")[0] for job_id in queued_job_ids()}
    assert {job_id.partition("_")[0] for job_id in by_id} <= queued


async def test_my_jobs_show_none_of_bobs_and_no_forged_job_of_alice(
    jp_fetch: Any, hostile_jobs: list[HostileJob]
) -> None:
    listed = (await get_json(jp_fetch, "jobs", scope="mine"))["jobs"]

    assert {job["user"] for job in listed} <= {VICTIM}
    assert not {job["id"] for job in listed} & {FORGED_ID, *(job.job_id for job in hostile_jobs)}
    assert not [job for job in listed if job["name"] == "forged"]


async def test_each_jobs_detail_is_bobs_with_its_real_paths(
    jp_fetch: Any, hostile_jobs: list[HostileJob]
) -> None:
    for hostile in hostile_jobs:
        detail = await get_json(jp_fetch, "jobs", hostile.job_id)

        assert (detail["id"], detail["user"], detail["account"]) == (
            hostile.job_id, ATTACKER, "proj2"
        )  # fmt: skip
        assert (detail["name"], detail["work_dir"]) == (hostile.name, hostile.work_dir)
        assert (detail["stdout"], detail["stderr"]) == (hostile.stdout, hostile.stdout)
        assert (detail["state"], detail["reason"]) == ("PENDING", "JobHeldUser")


async def test_alice_cannot_read_the_output_of_any_of_them(
    jp_fetch: Any, hostile_jobs: list[HostileJob]
) -> None:
    for hostile in hostile_jobs:
        for stream in ("stdout", "stderr"):
            with pytest.raises(HTTPClientError) as refused:
                await jp_fetch("hpc", "jobs", hostile.job_id, "output", params={"stream": stream})

            assert refused.value.code == 403


def run_as_alice(argv: list[str]) -> str:
    """A query's raw output, read as the backend reads it: bytes, decoded, no newline changes."""
    completed = subprocess.run(
        [*as_user(VICTIM), *argv],
        capture_output=True, check=True, env=command_environment(os.environ),
    )  # fmt: skip
    return completed.stdout.decode(errors="replace")


def test_the_squeue_parser_reads_a_listing_of_them_whole(hostile_jobs: list[HostileJob]) -> None:
    separator = query_separator()
    output = run_as_alice(squeue_argv(separator))

    jobs = {job.id: job for job in parse_jobs(output.split("\n"), separator)}

    assert FORGED_ID not in jobs
    for hostile in hostile_jobs:
        job = jobs[hostile.job_id]
        assert (job.name, job.user, job.work_dir, job.stdout) == (
            hostile.name, ATTACKER, hostile.work_dir, hostile.stdout
        )  # fmt: skip
    # The same listing read in parts of one line, as squeue may hand it over, and read again
    # with another separator: the same jobs, the unchanged ones reused.
    parser = SqueueParser()
    listing = parser.listing(separator)
    for line in output.split("\n"):
        listing.parse([line])
    first = {job.id: job for job in parser.finish(listing)}
    assert first == jobs
    other = query_separator()
    listing = parser.listing(other)
    listing.parse(output.replace(separator[1:], other[1:]).split("\n"))
    again = {job.id: job for job in parser.finish(listing)}
    assert again == jobs
    assert all(again[hostile.job_id] is first[hostile.job_id] for hostile in hostile_jobs)


def accounted_jobs(job_id: str) -> list[JobDetail]:
    """sacct's records of ``job_id``, once slurmdbd has it (a second or so after sbatch)."""
    deadline = time.monotonic() + 30
    while True:
        separator = query_separator()
        jobs = parse_sacct_jobs(run_as_alice(sacct_job_argv(job_id, separator)), separator)
        if jobs or time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


def test_the_detail_parsers_read_each_of_them_whole(hostile_jobs: list[HostileJob]) -> None:
    for hostile in hostile_jobs:
        separator = query_separator()
        (detail,) = parse_squeue_jobs(
            run_as_alice(squeue_job_argv(hostile.job_id, separator)), separator
        )
        (accounted,) = accounted_jobs(hostile.job_id)

        for job in (detail.job, accounted.job):
            assert (job.id, job.user, job.account, job.work_dir) == (
                hostile.job_id, ATTACKER, "proj2", hostile.work_dir
            )  # fmt: skip
        assert (detail.job.name, detail.job.stdout) == (hostile.name, hostile.stdout)
        # slurmdbd keeps 255 bytes of the name, and sacct prints some characters (U+202E) as "?".
        if hostile.name.isascii():
            assert hostile.name.startswith(accounted.job.name)
            assert len(accounted.job.name) >= min(len(hostile.name), 255)


def test_a_fresh_separator_for_every_query() -> None:
    separators = {query_separator() for _ in range(1000)}

    assert len(separators) == 1000
    assert all(len(separator) == 17 and separator[0] == SEPARATOR for separator in separators)
