"""The backend contract: every SlurmBackend behaves alike on the real cluster, acting as alice.

Each behaviour test runs once per backend (commands, slurmrestd); the comparison tests ask
both backends about the same jobs and partitions and require the same answers, except for the
differences documented here:

- ``elapsed`` is computed at the moment of each query: it may differ by a couple of seconds.
- Quotas: slurmrestd has no usage against limits; that backend says unavailable.
- Requeue: slurmrestd offers it from API v0.0.45 (Slurm 26.05); with older APIs that backend
  refuses it.
- The job list's output paths: slurmrestd v0.0.40 to v0.0.42 (Slurm 24.11's newest) send
  them expanded only, so that list shows the files, squeue the patterns (``%j``).
- Default partition: slurmrestd v0.0.40 to v0.0.44 send no partition flags, so that backend
  marks no partition as the default.

With HPC_CLUSTER_DIR naming another Slurm release's cluster (``cluster/slurm_cluster.py up
--release 24.11``) the suite runs against that release; ``make matrix`` runs it against each.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.errors import (
    InvalidRequest,
    SlurmConflict,
    SlurmError,
    SlurmNotFound,
    SlurmPermissionDenied,
    SlurmUnavailable,
)
from jupyterlab_hpc.slurm.records import BatchScript, Job
from jupyterlab_hpc.slurm.restd.backend import SlurmRestd
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, SubmitJob, as_user

pytestmark = pytest.mark.cluster

USER = "alice"
# Pending for an hour: the job holds no CPUs, so the tests work on a busy cluster too.
LATER = "--begin=now+1hour"
ELAPSED_TOLERANCE = 2


def commands_backend() -> SlurmCommands:
    return SlurmCommands(command_prefix=as_user(USER), timeout=20.0)


def restd_backend(cluster: dict[str, Any], *, over: str = "rest_url") -> SlurmRestd:
    """The slurmrestd backend, over TCP (``rest_url``) or its Unix socket (``rest_unix_url``)."""
    if over not in cluster:
        pytest.skip(f"this cluster's cluster.json has no {over}: run `make cluster` again")
    return SlurmRestd(
        url=cluster[over],
        user_name=USER,
        token_command=[*as_user(USER), "scontrol", "token", "lifespan=600"],
        timeout=20.0,
    )


@pytest.fixture(params=["commands", "slurmrestd", "slurmrestd-unix"])
def backend(request: pytest.FixtureRequest, cluster: dict[str, Any]) -> SlurmBackend:
    """Each backend in turn, acting as alice; slurmrestd over TCP and over its Unix socket."""
    if request.param == "commands":
        return commands_backend()
    return restd_backend(
        cluster, over="rest_unix_url" if request.param.endswith("unix") else "rest_url"
    )


@pytest.fixture
def both(cluster: dict[str, Any]) -> tuple[SlurmBackend, SlurmBackend]:
    return commands_backend(), restd_backend(cluster)


@pytest.fixture
def alice_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hpc-contract-", dir="/tmp"))
    shutil.chown(folder, USER, USER)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write_script(folder: Path, name: str, body: str) -> Path:
    script = folder / name
    script.write_text(body)
    shutil.chown(script, USER, USER)
    return script


def cancel(*job_ids: str) -> None:
    subprocess.run([*CLUSTER_PREFIX, "scancel", *job_ids], capture_output=True, check=False)


def differences(
    first: Job, second: Job, unsent: frozenset[str] = frozenset()
) -> dict[str, tuple[Any, Any]]:
    """The fields in which two views of one job differ beyond the documented tolerance, apart
    from the ``unsent`` fields that one view cannot have."""
    found = {}
    for field in dataclasses.fields(Job):
        if field.name in unsent:
            continue
        a, b = getattr(first, field.name), getattr(second, field.name)
        close_in_time = (
            field.name == "elapsed"
            and a is not None
            and b is not None
            and abs(a - b) <= ELAPSED_TOLERANCE
        )
        if a != b and not close_in_time:
            found[field.name] = (a, b)
    return found


async def same_job_views(both: tuple[SlurmBackend, SlurmBackend], job_id: str) -> None:
    """Both backends describe ``job_id`` alike (asked again if the job changed state between)."""
    for _ in range(3):
        commands_job, restd_job = await asyncio.gather(
            both[0].get_job(job_id), both[1].get_job(job_id)
        )
        found = differences(commands_job, restd_job)
        if not found or commands_job.state == restd_job.state:
            break
    assert found == {}


async def test_whoami_is_the_user_the_token_or_prefix_acts_as(backend: SlurmBackend) -> None:
    assert await backend.whoami() == USER


async def test_mine_lists_only_alices_jobs_and_all_lists_bobs_too(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    alices = submit_job(USER, "--partition=debug", LATER)
    bobs = submit_job("bob", "--partition=debug", LATER)

    mine = {job.id for job in await backend.list_jobs(mine=True)}
    everyone = {job.id for job in await backend.list_jobs(mine=False)}

    assert alices in mine
    assert bobs not in mine
    assert {alices, bobs} <= everyone


async def test_hold_leaves_the_job_pending_held_by_the_user_and_release_frees_it(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    job_id = submit_job(USER, "--partition=debug", LATER)

    await backend.act_on_job(job_id, "hold")
    held = await backend.get_job(job_id)
    await backend.act_on_job(job_id, "release")
    released = await backend.get_job(job_id)

    assert (held.state, held.reason) == ("PENDING", "JobHeldUser")
    assert released.reason != "JobHeldUser"


async def test_requeue_puts_a_running_job_back_in_the_queue_but_not_a_pending_one(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    pending = submit_job(USER, "--partition=debug", LATER)
    if isinstance(backend, SlurmRestd) and not (await backend.dialect()).requeues:
        with pytest.raises(SlurmError, match="offers no requeue"):
            await backend.act_on_job(pending, "requeue")
        return
    running = submit_job(USER, "--partition=debug", "--time=5")
    await until_state(backend, running, "RUNNING")

    await backend.act_on_job(running, "requeue")

    await until_state(backend, running, "PENDING")
    with pytest.raises(SlurmConflict, match="Job is pending execution"):
        await backend.act_on_job(pending, "requeue")


async def until_state(backend: SlurmBackend, job_id: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (job := await backend.get_job(job_id)).state != state:
        assert time.monotonic() < deadline, f"job {job_id} still {job.state}, not {state}"
        await asyncio.sleep(0.5)


async def test_alice_cancels_her_own_job(backend: SlurmBackend, submit_job: SubmitJob) -> None:
    job_id = submit_job(USER, "--partition=debug", LATER)

    await backend.act_on_job(job_id, "cancel")

    assert (await backend.get_job(job_id)).state == "CANCELLED"
    assert job_id not in {job.id for job in await backend.list_jobs(mine=True)}


async def test_cancelling_bobs_job_is_denied_in_slurms_words_and_it_stays(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    bobs = submit_job("bob", "--partition=debug", LATER)

    with pytest.raises(SlurmPermissionDenied, match="Access/permission denied"):
        await backend.act_on_job(bobs, "cancel")

    assert (await backend.get_job(bobs)).state == "PENDING"


async def test_an_unknown_job_is_not_found(backend: SlurmBackend) -> None:
    with pytest.raises(SlurmNotFound):
        await backend.get_job("999999")
    # hold, not cancel: 22.05's scancel exits 0 for an unknown job when not verbose.
    with pytest.raises(SlurmNotFound, match="Invalid job id"):
        await backend.act_on_job("999999", "hold")


async def test_a_pending_arrays_listed_id_opens_its_record(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    array_id = submit_job(USER, "--partition=debug", "--hold", "--array=1-3")
    listed_id = next(
        job.id for job in await backend.list_jobs(mine=True) if job.id.startswith(array_id)
    )

    job = await backend.get_job(listed_id)

    assert listed_id == f"{array_id}_[1-3]"
    assert (job.id, job.state, job.reason) == (listed_id, "PENDING", "JobHeldUser")


async def test_a_submitted_script_runs_in_the_given_folder(
    backend: SlurmBackend, alice_folder: Path
) -> None:
    script = write_script(
        alice_folder,
        "where.sh",
        "#!/bin/bash\n#SBATCH --partition=debug --time=1\n#SBATCH -J contract-where\n"
        "pwd > where.txt\n",
    )

    job_id = await backend.submit(str(script), str(alice_folder))
    try:
        job = await backend.get_job(job_id)
        deadline = time.monotonic() + 60
        while not (alice_folder / "where.txt").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
    finally:
        cancel(job_id)

    assert (job.name, job.partition, job.time_limit) == ("contract-where", "debug", 60)
    assert job.work_dir == str(alice_folder)
    assert (alice_folder / "where.txt").read_text().strip() == str(alice_folder)


async def test_a_refused_submission_keeps_slurms_words(
    backend: SlurmBackend, alice_folder: Path
) -> None:
    script = write_script(
        alice_folder, "refused.sh", "#!/bin/bash\n#SBATCH --account=nosuch\nhostname\n"
    )

    with pytest.raises(SlurmError, match="Invalid account"):
        await backend.submit(str(script), str(alice_folder))


async def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.5)


async def test_a_script_given_as_text_runs_with_its_options_without_withheld_variables(
    backend: SlurmBackend, alice_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HPC_CONTRACT_SECRET", "do-not-store")
    monkeypatch.setenv("HPC_CONTRACT_PLAIN", "passed-on")
    job = BatchScript(
        script="#!/bin/sh\nenv > env.txt\nsleep 30\n",
        options=(
            "--job-name=contract-text", "--partition=debug", "--time=2", "--no-requeue",
            f"--chdir={alice_folder}", f"--output={alice_folder}/text-%j.log",
        ),
        withheld_environment=("HPC_CONTRACT_SECRET",),
    )  # fmt: skip

    job_id = await backend.submit_script(job)
    try:
        await wait_for(lambda: _exists(alice_folder / "env.txt"))
        await asyncio.sleep(0.5)  # env has written the whole file
        listed = await backend.get_job(job_id)
        status = await backend.job_status(job_id)
    finally:
        cancel(job_id)

    environment = (alice_folder / "env.txt").read_text()
    assert "HPC_CONTRACT_PLAIN=passed-on" in environment
    assert "HPC_CONTRACT_SECRET" not in environment
    assert (listed.name, listed.partition, listed.time_limit) == ("contract-text", "debug", 120)
    assert listed.work_dir == str(alice_folder)
    assert status is not None
    assert (status.job_id, status.state) == (job_id, "RUNNING")
    assert status.node == listed.nodes
    assert status.end_time is not None  # the time limit's end


async def _exists(path: Path) -> bool:
    return path.exists()


async def test_job_status_follows_a_job_from_the_queue_to_its_end(
    backend: SlurmBackend, submit_job: SubmitJob
) -> None:
    job_id = submit_job(USER, "--partition=debug", LATER)
    pending = await backend.job_status(job_id)
    await backend.act_on_job(job_id, "cancel")

    async def ended() -> bool:
        status = await backend.job_status(job_id)
        return status is not None and status.finished

    await wait_for(ended)
    cancelled = await backend.job_status(job_id)

    assert pending is not None
    assert (pending.state, pending.pending, pending.finished, pending.node) == (
        "PENDING", True, False, None
    )  # fmt: skip
    assert pending.reason == "BeginTime"
    assert pending.reason_text
    assert cancelled is not None
    assert cancelled.state == "CANCELLED"
    assert "was cancelled" in cancelled.ended_reason()


async def test_a_warning_signal_for_the_batch_shell_is_taken_where_the_api_can_send_it(
    backend: SlurmBackend, alice_folder: Path
) -> None:
    options = ("--partition=debug", "--time=2", "--hold", "--signal=B:USR1@30")
    job = BatchScript(script="#!/bin/sh\nsleep 1\n", options=(*options, f"--chdir={alice_folder}"))
    if isinstance(backend, SlurmRestd) and not (await backend.dialect()).signals_batch_shell:
        with pytest.raises(InvalidRequest, match="cannot send a job's warning signal"):
            await backend.submit_script(job)
        return
    job_id = await backend.submit_script(job)
    cancel(job_id)


async def test_a_job_slurm_never_had_has_no_status(backend: SlurmBackend) -> None:
    assert await backend.job_status("999999") is None


async def test_a_signal_reaches_the_batch_shell_where_the_api_can_send_one(
    backend: SlurmBackend, alice_folder: Path
) -> None:
    script = "#!/bin/sh\ntrap 'echo got > signalled.txt; exit 0' USR1\ntouch ready.txt\n"
    script += "while :; do sleep 1; done\n"
    options = ("--partition=debug", "--time=2", f"--chdir={alice_folder}", "--output=/dev/null")
    job_id = await backend.submit_script(BatchScript(script=script, options=options))
    try:
        await wait_for(lambda: _exists(alice_folder / "ready.txt"))
        if isinstance(backend, SlurmRestd) and not (await backend.dialect()).signals_batch_shell:
            with pytest.raises(SlurmError, match="cannot signal a batch shell"):
                await backend.signal_batch_shell(job_id, signal.SIGUSR1)
            return
        await backend.signal_batch_shell(job_id, signal.SIGUSR1)
        await wait_for(lambda: _exists(alice_folder / "signalled.txt"), timeout=20)
    finally:
        cancel(job_id)

    assert (alice_folder / "signalled.txt").read_text().strip() == "got"


async def test_the_node_address_is_one_of_the_clusters_nodes(backend: SlurmBackend) -> None:
    listed = subprocess.run(
        [*CLUSTER_PREFIX, "sinfo", "--noheader", "--Node", "--format=%o"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip

    assert await backend.node_address() in listed


async def test_both_backends_describe_jobs_alike(
    both: tuple[SlurmBackend, SlurmBackend], submit_job: SubmitJob
) -> None:
    jobs = [
        submit_job(USER, "--partition=debug", LATER, "--output=/tmp/contract-%j-%x.out"),
        submit_job(USER, "--partition=compute", "--hold", "--array=1-3%1", "--gres=gpu:1"),
        submit_job(USER, "--partition=debug", "--time=2", "--mem=600M"),
        submit_job("bob", "--partition=compute", "--account=proj1", LATER, "--error=/tmp/e-%A"),
    ]

    for job_id in jobs:
        await same_job_views(both, job_id)

    listed = [
        {
            job.id: job
            for job in await backend.list_jobs(mine=False)
            if job.id.startswith(tuple(jobs))
        }
        for backend in both
    ]
    restd = both[1]
    assert isinstance(restd, SlurmRestd)
    patterns = (await restd.dialect()).lists_output_patterns
    unsent = frozenset() if patterns else frozenset({"stdout", "stderr"})
    assert listed[0].keys() == listed[1].keys()
    for job_id, job in listed[0].items():
        if job.state == listed[1][job_id].state:
            assert differences(job, listed[1][job_id], unsent) == {}


async def test_both_backends_detail_a_finished_job_alike(
    both: tuple[SlurmBackend, SlurmBackend], submit_job: SubmitJob
) -> None:
    job_id = submit_job(USER, "--partition=debug", "--time=1", command="exit 3")
    deadline = time.monotonic() + 60
    while (await both[0].get_job(job_id)).state != "FAILED" and time.monotonic() < deadline:
        await asyncio.sleep(0.5)

    commands_detail, restd_detail = [await backend.get_job_detail(job_id) for backend in both]

    assert commands_detail.job.exit_code == restd_detail.job.exit_code == "3:0"
    assert differences(commands_detail.job, restd_detail.job) == {}
    assert restd_detail.estimated_start is None


async def test_both_backends_see_the_same_partitions_reservations_and_cluster(
    both: tuple[SlurmBackend, SlurmBackend],
) -> None:
    restd = both[1]
    assert isinstance(restd, SlurmRestd)
    for method in ("list_partitions", "list_reservations", "cluster_info"):
        answers = [await getattr(backend, method)() for backend in both]
        if method == "list_partitions" and not (await restd.dialect()).sends_partition_flags:
            answers[0] = [dataclasses.replace(p, default=False) for p in answers[0]]
        assert answers[0] == answers[1], method


async def test_both_backends_know_alices_accounts_and_groups(
    both: tuple[SlurmBackend, SlurmBackend], cluster: dict[str, Any]
) -> None:
    commands_access, restd_access = [await backend.user_access(USER) for backend in both]

    assert commands_access == restd_access
    assert commands_access.default_account == cluster["default_accounts"][USER]


async def test_partitions_report_the_clusters_nodes(
    backend: SlurmBackend, cluster: dict[str, Any]
) -> None:
    partitions = {partition.name: partition for partition in await backend.list_partitions()}
    knows_default = (
        not isinstance(backend, SlurmRestd) or (await backend.dialect()).sends_partition_flags
    )

    for expected in cluster["partitions"]:
        partition = partitions[expected["name"]]
        assert partition.nodes.total == len(expected["nodes"])
        assert partition.cpus.total == len(expected["nodes"]) * cluster["node_cpus"]
        assert partition.default == (expected["default"] and knows_default)
    assert partitions["compute"].gpus.total == 4


async def test_quotas_come_from_the_commands_and_are_unavailable_through_slurmrestd(
    backend: SlurmBackend,
) -> None:
    if isinstance(backend, SlurmRestd):
        with pytest.raises(SlurmUnavailable, match="not available through slurmrestd"):
            await backend.list_quotas(USER)
        return
    accounts = {quota.account for quota in await backend.list_quotas(USER)}
    assert accounts == {"proj1", "proj2"}
