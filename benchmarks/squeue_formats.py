"""squeue --json against the delimited --Format text the commands backend parses (squeue.py).

For the same queue, measures each form's wall time (squeue running plus our parse) and size,
median of several runs, so the choice of format can be checked on a big queue:

    .venv/bin/python benchmarks/squeue_formats.py [--runs 5] [--prefix runuser -u alice --]

Both run over the whole queue (22.05's squeue --json ignores filters such as --me anyway).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable

from jupyterlab_hpc.slurm.commands.fields import query_separator
from jupyterlab_hpc.slurm.commands.squeue import parse_jobs, squeue_argv
from jupyterlab_hpc.slurm.runner import command_environment


def measure(argv: list[str], parse: Callable[[str], int], runs: int) -> dict[str, float]:
    """Median seconds for squeue and for the parse, the output's size and the job count."""
    squeue_times, parse_times = [], []
    output, jobs = "", 0
    for _ in range(runs):
        started = time.perf_counter()
        output = subprocess.run(
            argv, capture_output=True, text=True, check=True, env=command_environment(os.environ)
        ).stdout
        parsed = time.perf_counter()
        jobs = parse(output)
        squeue_times.append(parsed - started)
        parse_times.append(time.perf_counter() - parsed)
    return {
        "squeue_s": statistics.median(squeue_times),
        "parse_s": statistics.median(parse_times),
        "megabytes": len(output.encode()) / 1e6,
        "jobs": jobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prefix", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    separator = query_separator()
    forms = {
        "--Format text": (
            [*args.prefix, *squeue_argv(separator)],
            lambda output: len(parse_jobs(output.split("\n"), separator)),
        ),
        "--json": (
            [*args.prefix, "squeue", "--json"],
            lambda output: len(json.loads(output)["jobs"]),
        ),
    }
    print(f"{'form':<14} {'jobs':>7} {'squeue s':>9} {'parse s':>8} {'total s':>8} {'MB':>7}")
    for name, (argv, parse) in forms.items():
        result = measure(argv, parse, args.runs)
        total = result["squeue_s"] + result["parse_s"]
        print(
            f"{name:<14} {result['jobs']:>7.0f} {result['squeue_s']:>9.3f}"
            f" {result['parse_s']:>8.3f} {total:>8.3f} {result['megabytes']:>7.2f}"
        )


if __name__ == "__main__":
    main()
