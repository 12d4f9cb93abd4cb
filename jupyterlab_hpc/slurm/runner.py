"""The one way this project runs a Slurm command: argument list, timeout, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence

from jupyterlab_hpc.slurm.errors import SlurmTimeout, SlurmUnavailable, error_from_stderr

# How much of a command's output is read at once when it is consumed line by line.
_READ_SIZE = 256 * 1024
# Slurm clients read these to change their output; a user's shell settings must not reshape
# what we parse.
_OUTPUT_SHAPING_PREFIXES = ("SQUEUE_", "SINFO_", "SACCT_", "SACCTMGR_", "SCONTROL_", "SLURM_TIME_")


def command_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment for Slurm clients: the server's, minus output shaping, in ISO time."""
    env = {k: v for k, v in base.items() if not k.startswith(_OUTPUT_SHAPING_PREFIXES)}
    env["SLURM_TIME_FORMAT"] = "standard"
    env["LC_ALL"] = "C"
    return env


class CommandRunner:
    """Runs Slurm commands, optionally behind a prefix such as ``ssh login01``."""

    def __init__(self, prefix: Sequence[str] = (), timeout: float = 30.0) -> None:
        self.prefix = list(prefix)
        self.timeout = timeout

    async def run(self, argv: Sequence[str], stdin: bytes | None = None) -> str:
        """Run ``prefix + argv`` and return its stdout; raise a SlurmError on failure."""
        process = await self._start(argv, with_stdin=stdin is not None)
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(stdin), self.timeout)
        except asyncio.TimeoutError:
            await _stop(process)
            raise self._timeout(argv) from None
        _check(process, stdout, stderr)
        return stdout.decode(errors="replace")

    async def read_lines(self, argv: Sequence[str], consume: Callable[[list[str]], None]) -> None:
        """Run ``prefix + argv`` and hand its stdout to ``consume`` in whole lines as they
        arrive, so that parsing a big listing overlaps with the command still printing it
        (squeue prints 10,000 jobs over some 60 ms) and never holds the event loop for long.
        Raise a SlurmError on failure, after which what ``consume`` got is to be dropped."""
        process = await self._start(argv, with_stdin=False)
        assert process.stdout is not None  # noqa: S101 - both piped by _start
        assert process.stderr is not None  # noqa: S101
        stderr = asyncio.ensure_future(process.stderr.read())
        try:
            async with asyncio.timeout(self.timeout):
                unfinished = b""
                while chunk := await process.stdout.read(_READ_SIZE):
                    whole, _, unfinished = (unfinished + chunk).rpartition(b"\n")
                    if whole:
                        consume(whole.decode(errors="replace").split("\n"))
                if unfinished:
                    consume([unfinished.decode(errors="replace")])
                await process.wait()
        except TimeoutError:
            raise self._timeout(argv) from None
        finally:
            if process.returncode is None:  # timed out, or ``consume`` failed
                stderr.cancel()
                await _stop(process)
        _check(process, b"", await stderr)

    async def _start(self, argv: Sequence[str], *, with_stdin: bool) -> asyncio.subprocess.Process:
        full_argv = [*self.prefix, *argv]
        try:
            return await asyncio.create_subprocess_exec(
                *full_argv,
                stdin=asyncio.subprocess.PIPE if with_stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=command_environment(os.environ),
                # Its own process group, so a timeout kills the command and anything the
                # prefix started (ssh, runuser's child) together.
                start_new_session=True,
            )
        except FileNotFoundError as error:
            msg = f"Slurm command not found: {full_argv[0]}"
            raise SlurmUnavailable(msg) from error

    def _timeout(self, argv: Sequence[str]) -> SlurmTimeout:
        return SlurmTimeout(f"{argv[0]} did not answer within {self.timeout:g} s")


def _check(process: asyncio.subprocess.Process, stdout: bytes, stderr: bytes) -> None:
    if process.returncode != 0:
        # Some clients (scontrol) put their refusal on stdout.
        raise error_from_stderr(stderr.decode(errors="replace") or stdout.decode(errors="replace"))


async def _stop(process: asyncio.subprocess.Process) -> None:
    _kill_group(process.pid)
    await process.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
