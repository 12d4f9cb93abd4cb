#!/usr/bin/env python3
"""Test suites against every Slurm release: docs/compatibility.md (`make matrix`).

For each release it brings up that release's cluster (slurm_cluster.py up --release R), runs
each suite against it (SUITES: the backend contract suite, both backends, and the kernel
provisioner's lifecycle; acting as alice), and brings the cluster down again if this run
brought it up. The default release (22.05, the host's Slurm) is the shared cluster, which
others' tests use: this script never starts, restarts or stops it (`make matrix` runs `make
cluster` first). Each suite has its own section in the document; a run of some suites
(--suite) rewrites only theirs. Standard library only; pytest is the venv's.

    python3 cluster/compatibility_matrix.py [--release R ...] [--suite S ...] [--pytest P]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cluster_layout import DEFAULT_RELEASE, RELEASES

REPOSITORY = Path(__file__).resolve().parent.parent
TOOL = REPOSITORY / "cluster" / "slurm_cluster.py"
MARKS = {"passed": "pass", "failed": "FAIL", "error": "ERROR", "skipped": "skip"}
MESSAGE_LENGTH = 160
# Others' fault tests stop the shared cluster's daemons for a few seconds at a time.
SHARED_CLUSTER_WAIT = 180


RESULTS = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Suite:
    name: str  # for --suite
    path: str
    title: str  # the "## " heading of its section in the document
    about: tuple  # the section's opening lines
    # The test parameters shown as a column (the backends); empty: none. A test without one
    # counts as `unparametrized`.
    variants: tuple = ()
    unparametrized: str = ""


SUITES = {
    suite.name: suite
    for suite in (
        Suite(
            "contract",
            "jupyterlab_hpc/tests/test_backend_contract.py",
            "Backend contract suite",
            (
                "`jupyterlab_hpc/tests/test_backend_contract.py`. Backends: `commands` (Slurm's",
                "command-line tools), `slurmrestd` (over TCP), `slurmrestd-unix` (over its Unix",
                "socket); `both`: the test asks the commands and slurmrestd backends and compares",
                "their answers.",
            ),
            variants=("commands", "slurmrestd", "slurmrestd-unix", "both"),
            unparametrized="both",
        ),
        Suite(
            "kernels",
            "jupyterlab_hpc/tests/test_kernel_provisioner.py",
            "Kernel provisioner lifecycle",
            (
                "`jupyterlab_hpc/tests/test_kernel_provisioner.py`: kernels started through the",
                "Slurm provisioner, acting as alice, in jobs on the release's compute nodes:",
                "through the commands backend (the release's command prefix) and, in the",
                "`through_slurmrestd` tests, the slurmrestd backend. A chroot's cluster's jobs",
                "run its root's Python and ipykernel, with this checkout on PYTHONPATH",
                "(cluster.json: `job_python`, `job_pythonpath`).",
            ),
        ),
    )
}


@dataclass
class Outcome:
    test: str
    variant: str
    result: str  # a key of MARKS
    message: str


@dataclass
class ReleaseRun:
    release: str
    slurm_version: str
    outcomes: dict = field(default_factory=dict)  # suite name -> [Outcome]


def run_release(release, suites, pytest):
    """Up, suites, down; only the suites for the shared default cluster. A release's cluster
    that was up already (someone is using it) is left up."""
    env = {**os.environ, "HPC_CLUSTER_DIR": RELEASES[release].default_dir}
    tool = [sys.executable, str(TOOL)]
    release_option = ["--release", release]
    brought_up = (
        release != DEFAULT_RELEASE
        and subprocess.run(
            [*tool, "status", *release_option], env=env, capture_output=True, check=False
        ).returncode
    )
    if release == DEFAULT_RELEASE:
        wait_until_up(tool, env)
    else:
        print(f"== Slurm {release}: up", flush=True)
        subprocess.run([*tool, "up", *release_option], env=env, check=True)
    try:
        facts = json.loads(Path(env["HPC_CLUSTER_DIR"], "cluster.json").read_text())
        run = ReleaseRun(release, facts["slurm_version"])
        for suite in suites:
            print(f"== Slurm {run.slurm_version}: {suite.title}", flush=True)
            run.outcomes[suite.name] = run_suite(suite, pytest, env)
    finally:
        if brought_up:
            print(f"== Slurm {release}: down", flush=True)
            subprocess.run([*tool, "down", *release_option], env=env, check=True)
    return run


def run_suite(suite, pytest, env):
    with tempfile.TemporaryDirectory(prefix="hpc-matrix-") as work:
        report = Path(work, "junit.xml")
        subprocess.run(
            [pytest, "-q", "-p", "no:cacheprovider", f"--junitxml={report}", suite.path],
            env={**env, "HPC_REQUIRE_CLUSTER": "1"},
            cwd=REPOSITORY,
            check=False,  # failures are results
        )
        return read_junit(report, suite)


def wait_until_up(tool, env):
    """Wait while the shared cluster is not fully up (`status` only reads)."""
    deadline = time.monotonic() + SHARED_CLUSTER_WAIT
    status = [*tool, "status"]
    while subprocess.run(status, env=env, capture_output=True, check=False).returncode:
        if time.monotonic() > deadline:
            print(f"the shared cluster is not up after {SHARED_CLUSTER_WAIT} s", flush=True)
            return
        time.sleep(2)


def read_junit(report, suite):
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
        outcomes.append(Outcome(name, param.rstrip("]") or suite.unparametrized, result, message))
    return outcomes


def first_line(text):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= MESSAGE_LENGTH else line[: MESSAGE_LENGTH - 1] + "…"


DOCUMENT_HEAD = """# Compatibility matrix

Test suites run against a local cluster of each Slurm release. 22.05 is Debian 12's Slurm
(the shared test cluster); the others run from Debian roots in a chroot
(`cluster/slurm_cluster.py up --release R`). Written by `cluster/compatibility_matrix.py`
(`make matrix`); each suite's section says when it last ran.
"""


def document(runs, suites, command, old_text):
    """The document with the sections of ``suites`` new, other suites' kept from ``old_text``."""
    old = sections(old_text)
    parts = [DOCUMENT_HEAD]
    for suite in SUITES.values():
        if suite in suites:
            parts.append(section(suite, runs, command))
        elif suite.title in old:
            parts.append(old[suite.title].rstrip() + "\n")
    return "\n".join(parts)


def sections(text):
    """The suites' sections of an earlier document, by title."""
    found, title = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
            found[title] = ""
        if title is not None:
            found[title] += line
    titles = {suite.title for suite in SUITES.values()}
    return {title: body for title, body in found.items() if title in titles}


def section(suite, runs, command):
    releases = [run.release for run in runs]
    variants = suite.variants or ("",)
    rows = {}  # (test, variant) -> {release: outcome}, in the suite's order
    for run in runs:
        for outcome in run.outcomes[suite.name]:
            rows.setdefault((outcome.test, outcome.variant), {})[run.release] = outcome
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    variant_column = ["backend"] if suite.variants else []
    lines = [
        f"## {suite.title}",
        "",
        *suite.about,
        "",
        f"- Date: {date}",
        f"- Command: `{command}`",
        "- Slurm: " + ", ".join(f"{run.release} = {run.slurm_version}" for run in runs),
        "",
        "### Totals",
        "",
        table_row(["release", *variant_column, "passed", "failed", "errors", "skipped"]),
        table_row(["---"] * (5 + len(variant_column))),
    ]
    for run in runs:
        for variant in variants:
            outcomes = [o for o in run.outcomes[suite.name] if o.variant == variant]
            counts = [str(sum(o.result == result for o in outcomes)) for result in RESULTS]
            lines.append(table_row([run.release, *([variant] if suite.variants else []), *counts]))
    lines += [
        "",
        "### Per test",
        "",
        table_row(["test", *variant_column, *releases]),
        table_row(["---"] * (1 + len(variant_column) + len(releases))),
    ]
    for (test, variant), by_release in rows.items():
        marks = [MARKS[by_release[r].result] if r in by_release else "-" for r in releases]
        lines.append(table_row([f"`{test}`", *([variant] if suite.variants else []), *marks]))
    for results, heading in (
        ({"failed", "error"}, "Why tests failed (first line of the failure)"),
        ({"skipped"}, "Why tests were skipped"),
    ):
        reasons = {}  # (release, first line of the message) -> how many tests
        for run in runs:
            for outcome in run.outcomes[suite.name]:
                if outcome.result in results:
                    key = (run.release, outcome.message)
                    reasons[key] = reasons.get(key, 0) + 1
        if reasons:
            lines += ["", f"### {heading}", ""]
            lines += [
                f"- {release}, {count} test{'s' * (count > 1)}: `{message}`"
                for (release, message), count in reasons.items()
            ]
    return "\n".join(lines) + "\n"


def table_row(cells):
    return "| " + " | ".join(cells) + " |"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release",
        action="append",
        choices=RELEASES,
        help="a release to run (repeatable; default: all)",
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=SUITES,
        help="a suite to run (repeatable; default: all); other suites' sections stay as they were",
    )
    parser.add_argument("--pytest", default=str(REPOSITORY / ".venv" / "bin" / "pytest"))
    parser.add_argument("--output", default=str(REPOSITORY / "docs" / "compatibility.md"))
    parser.add_argument(
        "--command", default="make matrix", help="how this run was started, for the record"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    suites = [SUITES[name] for name in args.suite or list(SUITES)]
    runs = [run_release(release, suites, args.pytest) for release in args.release or list(RELEASES)]
    output = Path(args.output)
    old_text = output.read_text() if output.exists() else ""
    output.write_text(document(runs, suites, args.command, old_text))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
