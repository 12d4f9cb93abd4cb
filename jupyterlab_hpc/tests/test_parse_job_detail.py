"""Job detail from squeue and sacct output captured on the real cluster (with the capture's
fixed separators; the backend makes a fresh one for every query)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.job_detail import (
    _efficiency,
    parse_sacct_jobs,
    parse_squeue_jobs,
    sacct_job_argv,
    squeue_job_argv,
)
from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.notation import expand_output_path
from jupyterlab_hpc.slurm.records import JobDetail

CAPTURED = Path(__file__).parent / "captured"
# cluster/capture_outputs.py's for squeue; sacct's output it captures with SEPARATOR.
CAPTURE_SEPARATOR = SEPARATOR + "captured" * 2


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


# The releases captured since the job detail comes from squeue.
@pytest.fixture(
    params=sorted(path.parent for path in CAPTURED.glob("slurm-*/squeue_job_running.txt")),
    ids=lambda path: path.name,
)
def squeue_release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def _squeue(release: Path, shape: str) -> JobDetail:
    output = (release / f"squeue_job_{shape}.txt").read_text()
    (detail,) = parse_squeue_jobs(output, CAPTURE_SEPARATOR)
    return detail


def _sacct(release: Path, shape: str) -> JobDetail:
    (detail,) = parse_sacct_jobs((release / f"sacct_job_{shape}.txt").read_text(), SEPARATOR)
    return detail


def _seconds_between(earlier: str | None, later: str | None) -> float:
    assert earlier is not None
    assert later is not None
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def test_a_running_job_shows_its_command_and_expanded_output_paths(squeue_release: Path) -> None:
    detail = _squeue(squeue_release, "running")
    job = detail.job
    assert (job.name, job.state, job.account, job.partition) == (
        "detail job",
        "RUNNING",
        "proj2",
        "debug",
    )
    assert job.nodes in {"n1", "n2"}
    assert detail.command is not None
    # 22.05 shows the script with its arguments; later releases show the script only.
    assert detail.command.removesuffix(" 300 0").endswith("/detail.sh")
    assert job.work_dir is not None
    # --output=%x-%j-%N.out: squeue prints the pattern; %N is filled in from BatchHost.
    assert job.stdout == f"{job.work_dir}/detail job-{job.id}-{job.nodes}.out"
    # --error=%u-%A_%a-%n-%t-%s-%%.err, %a outside an array as slurmd writes it.
    assert job.stderr == f"{job.work_dir}/alice-{job.id}_4294967294-0-0-batch-%.err"
    assert (job.exit_code, job.end_time, detail.estimated_start, detail.efficiency) == (
        None,
        None,
        None,
        None,
    )


def test_a_job_waiting_for_its_begin_time_estimates_that_time(squeue_release: Path) -> None:
    detail = _squeue(squeue_release, "begin")
    assert (detail.job.state, detail.job.reason) == ("PENDING", "BeginTime")
    assert detail.job.reason_text == "Waiting for its requested start time"
    assert _seconds_between(detail.job.submit_time, detail.estimated_start) == 3600
    assert detail.job.start_time is None
    assert detail.job.nodes is None


def test_a_job_waiting_for_resources_gets_the_backfill_estimate(squeue_release: Path) -> None:
    detail = _squeue(squeue_release, "resources")
    job = detail.job
    assert (job.reason, job.node_count, job.cpus, job.memory_mb) == ("Resources", 2, 4, 2000)
    assert detail.command is None  # a --wrap job has no script path
    assert _seconds_between(job.submit_time, detail.estimated_start) > 0


def test_a_job_blocked_by_maintenance_reads_like_squeues_reason(squeue_release: Path) -> None:
    detail = _squeue(squeue_release, "maintenance")
    assert detail.job.reason == "ReqNodeNotAvail, Reserved for maintenance"
    assert detail.job.reason_text == (
        "Requested nodes are unavailable (down, drained or reserved for maintenance)"
    )
    assert detail.job.time_limit == 3 * 3600
    assert detail.estimated_start is not None  # after the maintenance window


def test_a_finished_job_still_in_slurmctld_has_exit_code_and_end(squeue_release: Path) -> None:
    finished, failed = _squeue(squeue_release, "finished"), _squeue(squeue_release, "failed")
    assert (finished.job.state, finished.job.exit_code) == ("COMPLETED", "0:0")
    assert (failed.job.state, failed.job.exit_code, failed.job.reason) == (
        "FAILED",
        "3:0",
        "NonZeroExitCode",
    )
    assert _seconds_between(finished.job.start_time, finished.job.end_time) >= 3
    assert finished.job.memory_mb == 1000


def test_sacct_gives_cpu_and_memory_efficiency_of_a_finished_job(release: Path) -> None:
    detail = _sacct(release, "finished")
    job = detail.job
    assert (job.state, job.exit_code, job.account, job.partition) == (
        "COMPLETED",
        "0:0",
        "proj2",
        "compute",
    )
    assert (job.cpus, job.memory_mb, job.gpus, job.node_count) == (1, 1000, 0, 1)
    assert detail.efficiency is not None
    # The script burns a CPU for 3 s of its 4-5 s and touches 300 MB of its 1000 MB.
    assert detail.efficiency.cpu is not None
    assert 0.3 < detail.efficiency.cpu <= 1.0
    assert detail.efficiency.memory is not None
    assert 0.29 <= detail.efficiency.memory <= 0.4
    assert (job.stdout, detail.command) == (None, None)  # 22.05's sacct has neither


def test_without_memory_samples_memory_efficiency_is_unknown(release: Path) -> None:
    # Default JobAcctGatherFrequency=30: a 4 s job gets no memory sample.
    detail = _sacct(release, "failed")
    assert (detail.job.state, detail.job.exit_code) == ("FAILED", "3:0")
    assert detail.efficiency is not None
    assert detail.efficiency.memory is None
    assert detail.efficiency.cpu is not None


def test_a_running_job_in_sacct_has_no_efficiency_yet(release: Path) -> None:
    detail = _sacct(release, "running")
    assert (detail.job.state, detail.job.end_time, detail.efficiency) == ("RUNNING", None, None)
    assert detail.job.name == "detail job"


def test_the_json_shape_is_a_job_plus_the_detail_fields(release: Path) -> None:
    shape = _sacct(release, "finished").to_json()
    assert {"estimated_start", "efficiency", "command", "exit_code", "stdout"} <= set(shape)
    assert set(shape["efficiency"]) == {"cpu", "memory"}


def test_an_unknown_job_is_no_records() -> None:
    assert parse_squeue_jobs("", SEPARATOR) == []
    assert parse_sacct_jobs("", SEPARATOR) == []


def test_output_patterns_expand_like_slurmd() -> None:
    def expand(path: str, batch_host: str | None = "n3") -> str:
        return expand_output_path(
            path,
            job_id="42",
            array_job_id="40",
            array_task_id="2",
            user="alice",
            name="fit",
            batch_host=batch_host,
        )

    assert expand("%x-%A_%a.out") == "fit-40_2.out"
    assert expand("%j-%3t-%N-%J.out") == "42-000-n3-42.batch.out"
    assert expand("%N.out", batch_host=None) == "%N.out"  # no node yet
    assert expand("100%%-%u.log") == "100%-alice.log"
    assert expand("literal\\%j.out") == "literal%j.out"


def test_anything_but_a_job_id_is_refused_before_a_command_runs() -> None:
    with pytest.raises(InvalidRequest):
        squeue_job_argv("42 --all", SEPARATOR)
    with pytest.raises(InvalidRequest):
        sacct_job_argv("-1", SEPARATOR)


def test_cpu_efficiency_of_a_job_busy_all_along_is_whole_not_more() -> None:
    # sacct: TotalCPU 00:03.001 (milliseconds) against CPUTimeRAW 3 (whole seconds).
    efficiency = _efficiency({"total_cpu": "00:03.001", "cpu_time_seconds": "3"}, [], None)

    assert efficiency is not None
    assert efficiency.cpu == 1.0
