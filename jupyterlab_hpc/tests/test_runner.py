"""The command runner: argument lists, timeouts, and Slurm's words on failure."""

from __future__ import annotations

import time

import pytest

from jupyterlab_hpc.slurm.errors import (
    SlurmNotFound,
    SlurmPermissionDenied,
    SlurmTimeout,
    SlurmUnavailable,
    error_from_stderr,
)
from jupyterlab_hpc.slurm.runner import CommandRunner, command_environment


async def test_a_command_over_its_timeout_is_killed_and_reported() -> None:
    runner = CommandRunner(timeout=0.3)
    started = time.monotonic()

    with pytest.raises(SlurmTimeout, match=r"did not answer within 0\.3 s"):
        await runner.run(["sleep", "30"])

    assert time.monotonic() - started < 2


async def test_arguments_reach_the_command_unchanged_without_a_shell() -> None:
    output = await CommandRunner().run(["echo", "1;rm -rf /", "$(id)", "a b"])

    assert output == "1;rm -rf / $(id) a b\n"


async def test_the_prefix_comes_before_the_command() -> None:
    output = await CommandRunner(prefix=["env", "HPC_PREFIX_SEEN=yes"]).run(
        ["printenv", "HPC_PREFIX_SEEN"]
    )

    assert output == "yes\n"


async def test_a_missing_command_means_slurm_is_unavailable() -> None:
    with pytest.raises(SlurmUnavailable, match="not found: no-such-slurm-command"):
        await CommandRunner().run(["no-such-slurm-command"])


async def test_a_failing_command_raises_with_its_own_words() -> None:
    with pytest.raises(SlurmPermissionDenied, match="Access/permission denied"):
        await CommandRunner().run(
            ["sh", "-c", "echo 'scancel: error: Access/permission denied' >&2; exit 1"]
        )


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("squeue: error: Unable to contact slurm controller (connect failure)", SlurmUnavailable),
        (
            "scancel: error: Kill job error on job id 12: Access/permission denied",
            SlurmPermissionDenied,
        ),
        ("slurm_load_jobs error: Invalid job id specified", SlurmNotFound),
    ],
)
def test_slurm_errors_are_classified_by_their_words(stderr: str, kind: type[Exception]) -> None:
    error = error_from_stderr(stderr)
    assert type(error) is kind
    assert str(error) == stderr


def test_output_shaping_variables_are_dropped_and_time_is_iso() -> None:
    env = command_environment(
        {"PATH": "/usr/bin", "SQUEUE_FORMAT": "%i", "SLURM_TIME_FORMAT": "relative"}
    )

    assert env["PATH"] == "/usr/bin"
    assert "SQUEUE_FORMAT" not in env
    assert env["SLURM_TIME_FORMAT"] == "standard"


async def test_lines_reach_the_consumer_whole_however_the_output_is_cut() -> None:
    # Two writes with a pause between them, the first ending inside a line; no final newline.
    script = "printf 'one\\ntw'; sleep 0.2; printf 'o\\nthree\\nfour'"
    batches: list[list[str]] = []

    await CommandRunner().read_lines(["sh", "-c", script], batches.append)

    assert [line for batch in batches for line in batch] == ["one", "two", "three", "four"]
    assert len(batches) >= 2  # the first lines were handed over before the command ended


async def test_a_failing_command_read_by_lines_raises_with_its_own_words() -> None:
    script = "echo partial; echo 'squeue: error: Unable to contact slurm controller' >&2; exit 1"
    lines: list[str] = []

    with pytest.raises(SlurmUnavailable, match="Unable to contact slurm controller"):
        await CommandRunner().read_lines(["sh", "-c", script], lines.extend)


async def test_a_command_read_by_lines_over_its_timeout_is_killed() -> None:
    started = time.monotonic()

    with pytest.raises(SlurmTimeout, match=r"did not answer within 0\.3 s"):
        await CommandRunner(timeout=0.3).read_lines(["sh", "-c", "echo a; sleep 30"], print)

    assert time.monotonic() - started < 2


async def test_a_consumer_that_fails_stops_the_command() -> None:
    def refuse(lines: list[str]) -> None:
        raise ValueError(lines[0])

    started = time.monotonic()
    with pytest.raises(ValueError, match="first"):
        await CommandRunner().read_lines(["sh", "-c", "echo first; sleep 30"], refuse)

    assert time.monotonic() - started < 2
