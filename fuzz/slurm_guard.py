"""The fuzz server's command prefix: logs every Slurm command and guards other people's jobs.

    python3 -S slurm_guard.py LOG JOB_NAME runuser -u alice -- COMMAND [ARG ...]

Each COMMAND is appended to LOG as one JSON list, its arguments exactly as the server passed
them, then run through the rest of the prefix (``runuser -u alice --``), as a site's
``ssh login01`` would run it.

Job ids on the local cluster are small, so a generated id such as ``23`` may well be a real
job of another test run. scancel and scontrol hold/release/requeue therefore go through only
for jobs named JOB_NAME (the fuzz server's own kernel jobs); for any other job the guard
answers the way Slurm refuses a job that is not yours, and runs nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_JOB_VERBS = {"hold", "uhold", "release", "requeue", "requeuehold", "suspend", "resume", "update"}


def targeted_jobs(command: list[str]) -> list[str] | None:
    """The job ids a command would change; None for a command that changes no job."""
    if command[:1] == ["scancel"]:
        arguments = command[1:]
    elif command[:1] == ["scontrol"] and len(command) > 1 and command[1] in _JOB_VERBS:
        arguments = command[2:]
    else:
        return None
    return [argument for argument in arguments if not argument.startswith("-")]


def named(job_id: str, job_name: str) -> bool:
    """``job_id`` is a job in Slurm's queue called ``job_name``."""
    listed = subprocess.run(
        ["squeue", "--noheader", f"--jobs={job_id}", "--format=%j"],
        capture_output=True,
        text=True,
        check=False,
    )
    names = listed.stdout.split()
    return listed.returncode == 0 and bool(names) and set(names) == {job_name}


def main() -> None:
    log, job_name, *prefix_and_command = sys.argv[1:]
    command = prefix_and_command[prefix_and_command.index("--") + 1 :]
    with Path(log).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(command) + "\n")
    jobs = targeted_jobs(command)
    # No job named at all would be a filter (scancel --user=...): never ours to run.
    if jobs is not None and not (jobs and all(named(job, job_name) for job in jobs)):
        sys.stderr.write(f"{command[0]}: error: {' '.join(jobs)}: Access/permission denied\n")
        sys.exit(1)
    os.execvp(prefix_and_command[0], prefix_and_command)  # noqa: S606 - argument list, no shell


if __name__ == "__main__":
    main()
