"""The one way this project runs a Slurm command: argument list, timeout, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence

from jupyterlab_hpc.slurm.errors import SlurmTimeout, SlurmUnavailable, error_from_stderr

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
        full_argv = [*self.prefix, *argv]
        try:
            process = await asyncio.create_subprocess_exec(
                *full_argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
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
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(stdin), self.timeout)
        except asyncio.TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            msg = f"{argv[0]} did not answer within {self.timeout:g} s"
            raise SlurmTimeout(msg) from None
        if process.returncode != 0:
            # Some clients (scontrol) put their refusal on stdout.
            raise error_from_stderr(
                stderr.decode(errors="replace") or stdout.decode(errors="replace")
            )
        return stdout.decode(errors="replace")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
