"""What is handed to sbatch for a kernel: the options, and the batch script.

Slurm stores both and shows them (``scontrol show job``, ``sacct --batch-script``), to admins
and often to other users, so neither carries anything secret: the launcher's address, the path
of a file only the user can read, the admin's prologue lines and the user's prologue file.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from jupyterlab_hpc.kernels.resources import JobResources

# A job is warned of its time limit no earlier than (WARNING_SHARE - 1) / WARNING_SHARE of it.
WARNING_SHARE = 5


@dataclass(frozen=True)
class KernelJob:
    """Everything one kernel job is submitted with."""

    resources: JobResources
    job_name: str
    log_file: str  # Slurm's pattern: %j is the job id
    work_dir: str | None
    walltime_warning: int  # seconds before the time limit; 0 for none
    python: str
    launcher: str  # the launcher's zip application (launcher_app), run by ``python``
    server: tuple[str, int]
    handoff_file: str
    grace_period: float
    heartbeat_interval: float
    prologue: tuple[str, ...] = ()
    user_prologue: str = ""  # relative to the user's home; sourced when it exists

    def sbatch_options(self) -> list[str]:
        options = [
            f"--job-name={self.job_name}",
            f"--output={self.log_file}",
            # A requeued kernel would call a server that no longer waits for it.
            "--no-requeue",
        ]
        if self.work_dir:
            options.append(f"--chdir={self.work_dir}")
        warning = self.warning_before_limit()
        if warning > 0:
            # B: only the batch shell, which is the launcher (the script execs it).
            options.append(f"--signal=B:USR1@{warning}")
        return options + self.resources.sbatch_options()

    def warning_before_limit(self) -> int:
        """Seconds before the time limit the launcher is warned: walltime_warning, but at most
        a fifth of a time limit the job asks for, so a short job is not warned at its start."""
        if self.resources.time is None:
            return self.walltime_warning
        return min(self.walltime_warning, self.resources.time // WARNING_SHARE)

    def script(self) -> str:
        host, port = self.server
        launcher = [
            self.python, self.launcher,
            "--server", f"{host}:{port}",
            "--handoff", self.handoff_file,
            "--grace-period", f"{self.grace_period:g}",
            "--heartbeat", f"{self.heartbeat_interval:g}",
        ]  # fmt: skip
        lines = [
            "#!/bin/sh",
            "# A Jupyter kernel's job, submitted by jupyterlab-hpc. Nothing secret in here.",
            *self.prologue,
            *self._user_prologue_lines(),
            f"exec {shlex.join(launcher)}",
        ]
        return "\n".join(lines) + "\n"

    def _user_prologue_lines(self) -> list[str]:
        if not self.user_prologue:
            return []
        path = f'"$HOME"/{shlex.quote(self.user_prologue)}'
        return [f"if [ -r {path} ]; then . {path}; fi"]
