"""The squeue parser on output captured from the real cluster (cluster/capture_outputs.py, which
uses the fixed CAPTURE_SEPARATOR where the backend makes a fresh separator for every query)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.squeue import SqueueParser, parse_jobs
from jupyterlab_hpc.slurm.records import Job

CAPTURED = Path(__file__).parent / "captured"
# cluster/capture_outputs.py's.
CAPTURE_SEPARATOR = SEPARATOR + "captured" * 2


@pytest.fixture(
    params=sorted(CAPTURED.glob("slurm-*/squeue_listing.txt")), ids=lambda p: p.parent.name
)
def jobs_by_name(request: pytest.FixtureRequest) -> dict[str, list[Job]]:
    by_name: dict[str, list[Job]] = {}
    for job in parse_jobs(Path(request.param).read_text().split("\n"), CAPTURE_SEPARATOR):
        by_name.setdefault(job.name, []).append(job)
    return by_name


def test_a_running_job_has_its_node_times_and_resources(jobs_by_name: dict[str, list[Job]]) -> None:
    (job,) = jobs_by_name["running"]
    assert job.state == "RUNNING"
    assert (job.user, job.account, job.partition, job.qos) == ("alice", "proj1", "debug", "normal")
    assert job.nodes in {"n1", "n2"}
    assert (job.node_count, job.cpus, job.memory_mb, job.gpus) == (1, 1, 500, 0)
    assert job.time_limit == 300
    assert job.start_time is not None
    assert job.start_time.endswith("Z")
    assert job.end_time is None  # still running: Slurm's end time is only a projection
    assert job.reason_text is None
    assert (job.stdout, job.work_dir) == ("/dev/null", "/tmp")


def test_a_held_job_waits_with_a_plain_reason_and_no_nodes(
    jobs_by_name: dict[str, list[Job]],
) -> None:
    (job,) = jobs_by_name["held"]
    assert (job.state, job.reason) == ("PENDING", "JobHeldUser")
    assert job.reason_text == "Held by you: release it to let it start"
    assert job.nodes is None
    assert job.start_time is None
    assert job.time_limit == 3600


def test_gpus_come_from_the_allocated_tres(jobs_by_name: dict[str, list[Job]]) -> None:
    (job,) = jobs_by_name["gpu job"]
    assert job.gpus == 1


def test_array_tasks_are_separate_rows_with_their_array_ids(
    jobs_by_name: dict[str, list[Job]],
) -> None:
    tasks = jobs_by_name["array"]
    assert len(tasks) == 3
    assert {task.array_task_id for task in tasks} == {"1", "2", "3"}
    (array_id,) = {task.array_job_id for task in tasks}
    assert {task.id for task in tasks} == {f"{array_id}_{n}" for n in (1, 2, 3)}


def test_pending_array_tasks_stay_one_row_with_slurms_range(
    jobs_by_name: dict[str, list[Job]],
) -> None:
    pending = [job for job in jobs_by_name["throttled"] if job.state == "PENDING"]
    (job,) = pending
    assert job.id.endswith("_[2-20%1]")
    assert job.reason == "JobArrayTaskLimit"


def test_a_name_with_a_pipe_and_a_multi_node_job_parse_whole(
    jobs_by_name: dict[str, list[Job]],
) -> None:
    (job,) = jobs_by_name["two|nodes"]
    assert (job.node_count, job.cpus, job.memory_mb) == (2, 2, 1000)


def test_malformed_lines_are_skipped_not_fatal() -> None:
    assert parse_jobs(["garbage", CAPTURE_SEPARATOR * 3, ""], CAPTURE_SEPARATOR) == []


@pytest.fixture
def captured_lines() -> list[str]:
    return (CAPTURED / "slurm-22.05" / "squeue_listing.txt").read_text().split("\n")


def read_listing(
    parser: SqueueParser, lines: list[str], separator: str = CAPTURE_SEPARATOR
) -> list[Job]:
    """A listing read as the backend reads one: in parts, then finished."""
    listing = parser.listing(separator)
    listing.parse(lines[:2])
    listing.parse(lines[2:])
    return parser.finish(listing)


def test_a_line_printed_again_gets_the_previous_listings_record(
    captured_lines: list[str],
) -> None:
    parser = SqueueParser()
    first = read_listing(parser, captured_lines)
    again = read_listing(parser, captured_lines)

    assert again == parse_jobs(captured_lines, CAPTURE_SEPARATOR)
    assert all(reused is record for reused, record in zip(again, first, strict=True))


def test_records_are_reused_though_each_read_has_its_own_separator(
    captured_lines: list[str],
) -> None:
    parser = SqueueParser()
    first = read_listing(parser, captured_lines)
    separator = f"{SEPARATOR}0123456789abcdef"
    random = CAPTURE_SEPARATOR[len(SEPARATOR) :]
    lines = [line.replace(random, separator[len(SEPARATOR) :]) for line in captured_lines]
    again = read_listing(parser, lines, separator)

    assert all(reused is record for reused, record in zip(again, first, strict=True))


def test_a_changed_line_is_parsed_anew(captured_lines: list[str]) -> None:
    parser = SqueueParser()
    (running,) = [job for job in read_listing(parser, captured_lines) if job.name == "running"]
    renamed = [
        line.replace(
            f"{CAPTURE_SEPARATOR}running{CAPTURE_SEPARATOR}",
            f"{CAPTURE_SEPARATOR}renamed{CAPTURE_SEPARATOR}",
        )
        for line in captured_lines
    ]

    (renamed_job,) = [job for job in read_listing(parser, renamed) if job.id == running.id]

    assert renamed_job is not running
    assert (running.name, renamed_job.name) == ("running", "renamed")


def test_only_a_listing_read_whole_is_reused(captured_lines: list[str]) -> None:
    parser = SqueueParser()
    first = read_listing(parser, captured_lines)
    parser.listing(CAPTURE_SEPARATOR).parse(
        captured_lines[:1]
    )  # a read that failed: never finished

    assert read_listing(parser, captured_lines)[0] is first[0]
    assert read_listing(parser, []) == []
    assert read_listing(parser, captured_lines)[0] is not first[0]
