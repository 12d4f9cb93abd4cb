"""The IPython magics (%squeue, %sinfo, %sacct, %scancel, %%sbatch): in an IPython shell and in
a real kernel, against the real cluster, acting as alice.

In the shell a line magic is called as IPython calls it (run_line_magic): its answer comes
back, a UsageError is raised, Slurm's refusal is written to stderr. %%sbatch runs as a cell.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel
from traitlets.config import Config

from jupyterlab_hpc.magics.slurm_magics import sbatch_options
from jupyterlab_hpc.magics.tables import Table, duration
from jupyterlab_hpc.magics.worker_loop import run_in_own_loop
from jupyterlab_hpc.slurm.commands.accounting import sacct_jobs_argv
from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, SubmitJob, as_user

USER = "alice"
# Pending for an hour: the job holds no CPUs, so the tests work on a busy cluster too.
LATER = "--begin=now+1hour"


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    """IPython with the magics loaded, reaching Slurm as alice (set as a user would: %config)."""
    shell = InteractiveShell.instance(config=Config({"HistoryManager": {"enabled": False}}))
    shell.run_line_magic("load_ext", "jupyterlab_hpc.magics")
    shell.run_line_magic("config", f"SlurmConnection.command_prefix = {as_user(USER)!r}")
    shell.run_line_magic("config", "SlurmConnection.timeout = 20.0")
    return shell


def run_cell(shell: InteractiveShell, cell: str) -> Any:
    """The answer of ``cell`` run as a user runs it."""
    return shell.run_cell(cell).result  # type: ignore[no-untyped-call]  # IPython's is untyped


def job_ids(table: Table) -> list[str]:
    return [row[0] for row in table.rows]


def column(table: Table, name: str, job_id: str) -> str:
    """The value under ``name`` in ``job_id``'s row."""
    row = next(row for row in table.rows if row[0] == job_id)
    return row[table.columns.index(name)]


def slurm_state(job_id: str) -> str:
    """The job's state as root's squeue sees it."""
    argv = [*CLUSTER_PREFIX, "squeue", "--noheader", "--states=all", f"--jobs={job_id}",
            "--format=%T"]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``condition``: slurmdbd records a job's end a moment after slurmctld, and
    sacct's time window (no --jobs) lists it some seconds later still."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.5)


def cancel(*job_ids: str) -> None:
    subprocess.run([*CLUSTER_PREFIX, "scancel", *job_ids], capture_output=True, check=False)


# The answers' shape, without Slurm.


def test_every_value_is_escaped_in_html_and_kept_on_one_line_in_text() -> None:
    table = Table(("JOBID", "NAME"), [("7", "<b>x</b>\n7  evil\x1b[31m")])

    page = table._repr_html_()
    text = repr(table).splitlines()

    assert "<b>" not in page
    assert "<td>&lt;b&gt;x&lt;/b&gt;\\n7  evil\\x1b[31m</td>" in page
    assert text == ["JOBID  NAME", "7      <b>x</b>\\n7  evil\\x1b[31m"]


def test_text_columns_line_up_under_their_names() -> None:
    table = Table(("JOBID", "STATE"), [("123456789", "PENDING"), ("8", "RUNNING")])

    header, *rows = repr(table).splitlines()

    assert [
        line.index(state) for line, state in zip(rows, ("PENDING", "RUNNING"), strict=True)
    ] == [header.index("STATE")] * 2


def test_durations_read_as_slurm_prints_them() -> None:
    assert [duration(s) for s in (0, 65, 3723, 2 * 86400)] == [
        "0:00", "1:05", "1:02:03", "2-00:00:00"
    ]  # fmt: skip
    assert duration(None, unset="UNLIMITED") == "UNLIMITED"


def test_sbatch_takes_options_with_their_values_but_no_script_file() -> None:
    assert sbatch_options("-p debug --time=5 -J 'my job' --hold -t5") == (
        "-p", "debug", "--time=5", "-J", "my job", "--hold", "-t5"
    )  # fmt: skip
    for line in ("script.sh", "--time=5 script.sh", "-p debug extra", "-- script.sh", "-J 'x"):
        with pytest.raises(UsageError):
            sbatch_options(line)


def test_a_coroutine_is_waited_for_from_inside_a_running_event_loop() -> None:
    """As in a kernel, whose event loop runs the cell that calls the magic."""

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def cell() -> int:
        return run_in_own_loop(answer())

    assert asyncio.run(cell()) == 42


def test_sacct_is_asked_for_the_callers_jobs_or_everyones_of_a_time_or_ids() -> None:
    mine = sacct_jobs_argv(";", mine=True)
    everyone = sacct_jobs_argv(";", mine=False, job_ids=["12", "13_2"], since="now-7days")

    assert "--allusers" not in mine
    assert not [word for word in mine if word.startswith(("--jobs", "--starttime"))]
    assert everyone[-3:] == ["--allusers", "--jobs=12,13_2", "--starttime=now-7days"]
    with pytest.raises(InvalidRequest, match="Not a start time"):
        sacct_jobs_argv(";", mine=True, since="--allusers")


@pytest.mark.parametrize(
    ("magic", "line", "message"),
    [
        ("squeue", "--bogus", "%squeue: unrecognized arguments: --bogus"),
        ("squeue", "--al", "unrecognized arguments: --al"),
        ("squeue", "-t NOSUCH", "Unknown job state(s): NOSUCH"),
        ("squeue", "-u 'a b'", "Not a valid user name"),
        ("squeue", "-j 12;rm", "Not a Slurm job id"),
        ("sacct", "-S yesterday", "Not a start time: 'yesterday'"),
        ("sinfo", "-p debug", "%sinfo: unrecognized arguments: -p debug"),
        ("scancel", "", "the following arguments are required: JOBID"),
        ("scancel", "12 $(id)", "Not a Slurm job id: '$(id)'"),
        ("squeue", "-u 'alice", "%squeue: No closing quotation"),
    ],
)
def test_options_the_magic_does_not_take_are_refused_before_slurm_is_asked(
    shell: InteractiveShell, magic: str, line: str, message: str
) -> None:
    with pytest.raises(UsageError) as refusal:
        shell.run_line_magic(magic, line)

    assert message in str(refusal.value)


def test_sacct_says_it_needs_the_commands_backend(shell: InteractiveShell) -> None:
    shell.run_line_magic("config", "SlurmConnection.backend = 'slurmrestd'")
    try:
        with pytest.raises(UsageError, match=r"needs c\.SlurmConnection\.backend = 'commands'"):
            shell.run_line_magic("sacct", "")
    finally:
        shell.run_line_magic("config", "SlurmConnection.backend = 'commands'")


# Against the cluster, in the shell.


@pytest.mark.cluster
def test_squeue_lists_alices_jobs_and_with_options_others_too(
    shell: InteractiveShell, submit_job: SubmitJob
) -> None:
    debug = submit_job(USER, "--partition=debug", LATER)
    compute = submit_job(USER, "--partition=compute", LATER)
    bobs = submit_job("bob", "--partition=debug", LATER)

    def listed(line: str) -> set[str]:
        return set(job_ids(shell.run_line_magic("squeue", line))) & {debug, compute, bobs}

    assert listed("") == {debug, compute}
    assert listed("--all") == {debug, compute, bobs}
    assert listed("-u bob") == {bobs}
    assert listed(f"-j {bobs},{compute}") == {bobs, compute}
    assert listed("-a -p compute") == {compute}
    assert listed("-t RUNNING") == set()
    assert listed("-t PENDING,RUNNING") == {debug, compute}


@pytest.mark.cluster
def test_squeue_answers_with_a_table_in_html_and_in_text(
    shell: InteractiveShell, submit_job: SubmitJob
) -> None:
    job_id = submit_job(USER, "--partition=debug", "--time=7", LATER)

    table = shell.run_line_magic("squeue", f"-j {job_id}")

    assert table.columns[:5] == ("JOBID", "PARTITION", "NAME", "USER", "STATE")
    assert column(table, "STATE", job_id) == "PENDING"
    assert column(table, "TIME_LIMIT", job_id) == "7:00"
    assert column(table, "NODELIST(REASON)", job_id) == "(BeginTime)"
    assert f"<td>{job_id}</td><td>debug</td>" in table._repr_html_()
    assert repr(table).splitlines()[1].split()[:2] == [job_id, "debug"]


@pytest.mark.cluster
def test_sinfo_summarises_the_clusters_partitions(
    shell: InteractiveShell, cluster: dict[str, Any]
) -> None:
    table = shell.run_line_magic("sinfo", "")

    expected = {
        partition["name"] + ("*" if partition["default"] else ""): len(partition["nodes"])
        for partition in cluster["partitions"]
    }
    listed = {row[0]: row[3] for row in table.rows}
    assert {name: listed.get(name, "").rsplit("/", 1)[-1] for name in expected} == {
        name: str(count) for name, count in expected.items()
    }
    assert column(table, "AVAIL", "debug*") == "up"
    assert column(table, "TIMELIMIT", "debug*") == "30:00"


@pytest.mark.cluster
def test_sacct_lists_finished_jobs_alices_or_the_users_asked_for(
    shell: InteractiveShell, submit_job: SubmitJob
) -> None:
    # Jobs that run: sacct's time window holds the jobs eligible in it, and a job cancelled
    # while it waited for its --begin never was.
    alices = submit_job(USER, "--partition=debug", "--time=1", command="true")
    bobs = submit_job("bob", "--partition=debug", "--time=1", command="true")

    def listed(line: str) -> list[str]:
        return job_ids(shell.run_line_magic("sacct", line))

    eventually(lambda: listed(f"-j {alices},{bobs} -t COMPLETED") == [alices, bobs])
    eventually(lambda: alices in listed(""))
    eventually(lambda: bobs in listed("-S now-1days -u bob"))

    table = shell.run_line_magic("sacct", f"-j {alices}")
    assert [column(table, name, alices) for name in ("USER", "STATE", "EXITCODE")] == [
        USER, "COMPLETED", "0:0"
    ]  # fmt: skip
    assert bobs not in listed("")
    assert alices not in listed("-u bob")
    assert listed(f"-j {alices} -t FAILED") == []


@pytest.mark.cluster
def test_scancel_cancels_alices_job(
    shell: InteractiveShell, submit_job: SubmitJob, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = submit_job(USER, "--partition=debug", LATER)

    shell.run_line_magic("scancel", job_id)

    assert capsys.readouterr().out == f"Cancelled job {job_id}\n"
    assert slurm_state(job_id) == "CANCELLED"


@pytest.mark.cluster
def test_scancel_of_bobs_job_shows_slurms_refusal_and_the_job_stays(
    shell: InteractiveShell, submit_job: SubmitJob, capsys: pytest.CaptureFixture[str]
) -> None:
    bobs = submit_job("bob", "--partition=debug", LATER)

    answer = shell.run_line_magic("scancel", bobs)

    written = capsys.readouterr()
    assert answer is None
    assert written.out == ""
    assert f"Kill job error on job id {bobs}: Access/permission denied" in written.err
    assert slurm_state(bobs) == "PENDING"


@pytest.mark.cluster
def test_scancel_of_a_job_slurm_does_not_have_says_so_in_slurms_words(
    shell: InteractiveShell, cluster: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("scancel", "999999")

    assert capsys.readouterr().err == "slurm_load_jobs error: Invalid job id specified\n"


@pytest.mark.cluster
def test_sbatch_submits_the_cell_with_the_lines_options(
    shell: InteractiveShell, cluster: dict[str, Any]
) -> None:
    script = "#!/bin/bash\n#SBATCH --time=3\nsleep 300\n"

    job_id = run_cell(shell, f"%%sbatch -p debug -J 'magic job' {LATER}\n{script}")
    try:
        argv = [*CLUSTER_PREFIX, "squeue", "--noheader", f"--jobs={job_id}",
                "--format=%u|%P|%j|%l|%T"]  # fmt: skip
        shown = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        cancel(job_id)

    assert shown.strip() == f"{USER}|debug|magic job|3:00|PENDING"


@pytest.mark.cluster
def test_sbatch_keeps_the_kernels_secrets_out_of_the_job(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JupyterHub's API token and the like are in every kernel's environment: sbatch would
    copy them into the job, and Slurm keeps a batch job's environment."""
    monkeypatch.setenv("HPC_TEST_API_TOKEN", "s3cret")
    monkeypatch.setenv("HPC_TEST_PLAIN", "shown")
    # Where alice's job can write (pytest's folders are root's alone).
    output = Path("/tmp") / f"hpc-magics-{uuid.uuid4().hex}.out"
    script = '#!/bin/bash\necho "${HPC_TEST_API_TOKEN:-withheld} ${HPC_TEST_PLAIN:-lost}"\n'

    job_id = run_cell(shell, f"%%sbatch -p debug --output={output}\n{script}")
    try:
        eventually(lambda: output.is_file() and output.read_text().strip() != "")
        printed = output.read_text().split()
    finally:
        cancel(job_id)
        output.unlink(missing_ok=True)

    assert printed == ["withheld", "shown"]


@pytest.mark.cluster
def test_sbatch_refused_shows_sbatchs_own_words(
    shell: InteractiveShell, cluster: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    answer = run_cell(shell, "%%sbatch --account=nosuch\n#!/bin/bash\nhostname\n")

    assert answer is None
    assert capsys.readouterr().err.startswith(
        "sbatch: error: Batch job submission failed: Invalid account"
    )


# Against the cluster, in a real kernel: its event loop runs, its config is the site's.


@pytest.fixture
def kernel(tmp_path: Path, cluster: dict[str, Any]) -> Iterator[BlockingKernelClient]:
    """An ipykernel whose IPython profile reaches Slurm as alice, the magics loaded."""
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(
        f"c.SlurmConnection.command_prefix = {as_user(USER)!r}\n"
    )
    manager, client = start_new_kernel(
        kernel_name="python3",
        env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
        cwd="/tmp",
    )
    try:
        execute(client, "%load_ext jupyterlab_hpc.magics")
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """What running ``code`` shows: its result, what it wrote (type stdout or stderr), errors."""
    messages: list[dict[str, Any]] = []
    client.execute_interactive(code, output_hook=messages.append, timeout=60)
    kinds = {"execute_result": "result", "error": "error"}
    return [
        {**message["content"], "type": kinds.get(message["msg_type"]) or message["content"]["name"]}
        for message in messages
        if message["msg_type"] in {"execute_result", "stream", "error"}
    ]


@pytest.mark.cluster
def test_in_a_kernel_the_answer_is_html_and_text_and_a_refusal_goes_to_stderr(
    kernel: BlockingKernelClient, submit_job: SubmitJob
) -> None:
    bobs = submit_job("bob", "--partition=debug", LATER)

    [listing] = [out for out in execute(kernel, f"%squeue -j {bobs}") if out["type"] == "result"]
    refusal = execute(kernel, f"%scancel {bobs}")

    assert f"<td>{bobs}</td>" in listing["data"]["text/html"]
    assert listing["data"]["text/plain"].splitlines()[1].startswith(bobs)
    assert "Access/permission denied" in "".join(
        out["text"] for out in refusal if out["type"] == "stderr"
    )
    assert slurm_state(bobs) == "PENDING"
