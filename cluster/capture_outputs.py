"""Capture Slurm's real outputs for the parser unit tests (re-run for another Slurm release).

Submits a known set of jobs as alice on the local cluster, runs every query the backend
makes with the backend's own arguments, stores the raw outputs under
jupyterlab_hpc/tests/captured/slurm-<release>/, and cancels the jobs again.

    .venv/bin/python cluster/capture_outputs.py
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from jupyterlab_hpc.slurm.runner import command_environment
from jupyterlab_hpc.slurm.squeue import squeue_argv

ALICE = ["runuser", "-u", "alice", "--"]
CAPTURED = Path(__file__).resolve().parent.parent / "jupyterlab_hpc" / "tests" / "captured"

# (description, sbatch arguments): one job of each shape the parsers must understand.
JOB_SHAPES = (
    ("running", ["--partition=debug", "--time=5", "--job-name=running"]),
    ("held", ["--partition=compute", "--time=60", "--hold", "--job-name=held"]),
    ("gpu", ["--partition=compute", "--time=10", "--gres=gpu:1", "--job-name=gpu job"]),
    ("array", ["--partition=compute", "--time=5", "--array=1-3", "--job-name=array"]),
    ("two-nodes", ["--partition=compute", "--time=5", "--nodes=2", "--job-name=two|nodes"]),
    ("pending-array", ["--partition=debug", "--time=5", "--array=1-20%1", "--job-name=throttled"]),
)


def run(argv: list[str]) -> str:
    env = command_environment(os.environ)
    return subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout


def slurm_release() -> str:
    return run(["sinfo", "--version"]).split()[1].rsplit(".", 1)[0]  # "slurm 22.05.8" -> 22.05


def main() -> None:
    target = CAPTURED / f"slurm-{slurm_release()}"
    target.mkdir(parents=True, exist_ok=True)
    job_ids = [
        run(
            [
                *ALICE,
                "sbatch",
                "--parsable",
                "--chdir=/tmp",
                "--output=/dev/null",
                *args,
                "--wrap=sleep 300",
            ]
        ).strip()
        for _, args in JOB_SHAPES
    ]
    try:
        time.sleep(2)  # let the scheduler start what can start
        (target / "squeue_mine.txt").write_text(run([*ALICE, *squeue_argv(mine=True)]))
    finally:
        subprocess.run(["scancel", *job_ids], check=False)
    print(f"captured into {target}")


if __name__ == "__main__":
    main()
