#!/usr/bin/env python3
"""The backend contract suite against every Slurm release: docs/compatibility.md (`make matrix`).

For each release it brings up that release's cluster (slurm_cluster.py up --release R), runs
jupyterlab_hpc/tests/test_backend_contract.py against it (both backends, acting as alice), and
brings the cluster down again. The default release (22.05, the host's Slurm) is the shared
cluster, which others' tests use: this script never starts, restarts or stops it (`make matrix`
runs `make cluster` first). Standard library only; pytest is the venv's.

    python3 cluster/compatibility_matrix.py [--release R ...] [--pytest .venv/bin/pytest]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cluster_layout import DEFAULT_RELEASE, RELEASES

REPOSITORY = Path(__file__).resolve().parent.parent
TOOL = REPOSITORY / "cluster" / "slurm_cluster.py"
SUITE = "jupyterlab_hpc/tests/test_backend_contract.py"
# Tests without a backend parameter ask both backends and compare their answers.
BOTH = "both"
MARKS = {"passed": "pass", "failed": "FAIL", "error": "ERROR", "skipped": "skip"}
MESSAGE_LENGTH = 160
# Others' fault tests stop the shared cluster's daemons for a few seconds at a time.
SHARED_CLUSTER_WAIT = 180


@dataclass
class Outcome:
    test: str
    backend: str
    result: str  # a key of MARKS
    message: str


@dataclass
class ReleaseRun:
    release: str
    slurm_version: str
    outcomes: list


def run_release(release, pytest):
    """Up, suite, down; only the suite for the shared default cluster."""
    env = {**os.environ, "HPC_CLUSTER_DIR": RELEASES[release].default_dir}
    own_cluster = release != DEFAULT_RELEASE
    tool = [sys.executable, str(TOOL)]
    if own_cluster:
        print(f"== Slurm {release}: up", flush=True)
        subprocess.run([*tool, "up", "--release", release], env=env, check=True)
    else:
        wait_until_up(tool, env)
    try:
        facts = json.loads(Path(env["HPC_CLUSTER_DIR"], "cluster.json").read_text())
        version = facts["slurm_version"]
        with tempfile.TemporaryDirectory(prefix="hpc-matrix-") as work:
            report = Path(work, "junit.xml")
            print(f"== Slurm {version}: contract suite", flush=True)
            subprocess.run(
                [pytest, "-q", "-p", "no:cacheprovider", f"--junitxml={report}", SUITE],
                env={**env, "HPC_REQUIRE_CLUSTER": "1"},
                cwd=REPOSITORY,
                check=False,  # failures are results
            )
            outcomes = read_junit(report)
    finally:
        if own_cluster:
            print(f"== Slurm {release}: down", flush=True)
            subprocess.run([*tool, "down", "--release", release], env=env, check=True)
    return ReleaseRun(release, version, outcomes)


def wait_until_up(tool, env):
    """Wait while the shared cluster is not fully up (`status` only reads)."""
    deadline = time.monotonic() + SHARED_CLUSTER_WAIT
    status = [*tool, "status"]
    while subprocess.run(status, env=env, capture_output=True, check=False).returncode:
        if time.monotonic() > deadline:
            print(f"the shared cluster is not up after {SHARED_CLUSTER_WAIT} s", flush=True)
            return
        time.sleep(2)


def read_junit(report):
    outcomes = []
    # The report is the one our own pytest run just wrote.
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        name, _, param = case.get("name", "").partition("[")
        result, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                result = {"failure": "failed"}.get(kind, kind)
                message = first_line(element.get("message") or element.text or "")
                break
        outcomes.append(Outcome(name, param.rstrip("]") or BOTH, result, message))
    return outcomes


def first_line(text):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= MESSAGE_LENGTH else line[: MESSAGE_LENGTH - 1] + "…"


def markdown(runs, command):
    releases = [run.release for run in runs]
    rows = {}  # (test, backend) -> {release: outcome}, in the suite's order
    for run in runs:
        for outcome in run.outcomes:
            rows.setdefault((outcome.test, outcome.backend), {})[run.release] = outcome
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Compatibility matrix",
        "",
        "The backend contract suite (`jupyterlab_hpc/tests/test_backend_contract.py`) run against",
        "a local cluster of each Slurm release. 22.05 is Debian 12's Slurm (the shared test",
        "cluster); the others run from Debian roots in a chroot (`cluster/slurm_cluster.py up",
        "--release R`). Backends: `commands` (Slurm's command-line tools), `slurmrestd`; `both`:",
        "the test asks both backends and compares their answers.",
        "",
        f"- Date: {date}",
        f"- Command: `{command}`",
        "- Slurm: " + ", ".join(f"{run.release} = {run.slurm_version}" for run in runs),
        "",
        "## Totals",
        "",
        "| release | backend | passed | failed | errors | skipped |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        for backend in ("commands", "slurmrestd", BOTH):
            counts = [
                sum(o.backend == backend and o.result == result for o in run.outcomes)
                for result in ("passed", "failed", "error", "skipped")
            ]
            lines.append(f"| {run.release} | {backend} | " + " | ".join(map(str, counts)) + " |")
    lines += [
        "",
        "## Per test",
        "",
        "| test | backend | " + " | ".join(releases) + " |",
        "| --- | --- | " + " | ".join("---" for _ in releases) + " |",
    ]
    for (test, backend), by_release in rows.items():
        marks = [MARKS[by_release[r].result] if r in by_release else "-" for r in releases]
        lines.append(f"| `{test}` | {backend} | " + " | ".join(marks) + " |")
    problems = {}  # (release, first line of the failure) -> how many tests
    for run in runs:
        for outcome in run.outcomes:
            if outcome.result in {"failed", "error"}:
                key = (run.release, outcome.message)
                problems[key] = problems.get(key, 0) + 1
    if problems:
        lines += ["", "## Why tests failed (first line of the failure)", ""]
        lines += [
            f"- {release}, {count} test{'s' * (count > 1)}: `{message}`"
            for (release, message), count in problems.items()
        ]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release",
        action="append",
        choices=RELEASES,
        help="a release to run (repeatable; default: all)",
    )
    parser.add_argument("--pytest", default=str(REPOSITORY / ".venv" / "bin" / "pytest"))
    parser.add_argument("--output", default=str(REPOSITORY / "docs" / "compatibility.md"))
    parser.add_argument(
        "--command", default="make matrix", help="how this run was started, for the record"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    runs = [run_release(release, args.pytest) for release in args.release or list(RELEASES)]
    Path(args.output).write_text(markdown(runs, args.command))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
