"""What a rate-limited user sees (SlurmctldParameters=rl_enable), without and with the site service.

    python3 cluster/slurm_cluster.py up --release 26.05
    .venv/bin/python benchmarks/rate_limit.py [--release 26.05] [--seconds 60] [--loops 2]

Run as root. slurmctld's rate limit (Slurm >= 23.02) gives each uid a bucket of RPCs (30,
refilled by 2 a second by default); a client whose RPC finds it empty is told to back off and
retries by itself, silently. Here bob's own script runs squeue in --loops parallel loops, as a
user's `watch squeue` or workflow manager does, while bob's Jupyter server (the extension,
reading Slurm as bob) is polled for /hpc/jobs every --interval seconds, its cache off so that
each poll is a fresh listing:

- "own reads": the server asks Slurm itself, as bob, so its squeue shares bob's bucket;
- "site service": the server reads through `jupyter hpc-site`, which reads Slurm as the
  operator account (hpcsite) once per interval for everyone.

Reported per mode: /hpc/jobs latency p50/p95/max and statuses, and how many RPCs slurmctld
told to back off per uid (its log's "RPC rate limit exceeded by uid N"). The cluster's rate
limit is turned on for the run and off again. Results go to benchmarks/results/rate_limit.md.
"""

from __future__ import annotations

import argparse
import json
import pwd
import re
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from jupyterlab_hpc.tests.server_process import (
    free_port,
    jupyter_server_process,
    site_service_process,
)

REPOSITORY = Path(__file__).parent.parent
RESULTS = REPOSITORY / "benchmarks" / "results" / "rate_limit.md"
CLUSTER_TOOL = ["/usr/bin/python3", str(REPOSITORY / "cluster" / "slurm_cluster.py")]
USER = "bob"
BACKED_OFF = re.compile(r"RPC rate limit exceeded by uid (\d+)")


def cluster_facts(release: str) -> dict[str, Any]:
    suffix = "" if release == "22.05" else f"-{release}"
    facts = Path(f"/var/tmp/jupyterlab-hpc-cluster{suffix}/cluster.json")
    return dict(json.loads(facts.read_text()))


def as_user(facts: dict[str, Any], user: str) -> list[str]:
    return [*facts["command_prefix"], "runuser", "-u", user, "--"]


@contextmanager
def rate_limit_on(release: str) -> Iterator[None]:
    subprocess.run([*CLUSTER_TOOL, "rate-limit", "on", "--release", release], check=True)
    try:
        yield
    finally:
        subprocess.run([*CLUSTER_TOOL, "rate-limit", "off", "--release", release], check=True)


@contextmanager
def users_script(facts: dict[str, Any], loops: int) -> Iterator[None]:
    """bob's own squeue loops, each a shell of its own."""
    loop = f"while true; do {' '.join(as_user(facts, USER))} squeue -h > /dev/null 2>&1; done"
    shells = [subprocess.Popen(["sh", "-c", loop], start_new_session=True) for _ in range(loops)]
    try:
        time.sleep(3)  # the bucket is empty by then
        yield
    finally:
        for shell in shells:
            subprocess.run(["pkill", "-KILL", "-s", str(shell.pid)], check=False)
            shell.wait()


def poll_jobs(
    url: str, token: str, seconds: float, interval: float
) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"token {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            response = client.get("/hpc/jobs", params={"scope": "mine"})
            latencies.append(time.monotonic() - started)
            statuses[response.status_code] += 1
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return latencies, statuses


def backed_off(log: Path, offset: int) -> Counter[str]:
    """Per user, the RPCs slurmctld told to back off since ``offset`` of its log."""
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    return Counter(pwd.getpwuid(int(uid)).pw_name for uid in BACKED_OFF.findall(text))


def measure(
    facts: dict[str, Any], workdir: Path, site_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ServerApp": {"root_dir": str(workdir)},
        "SlurmConnection": {"command_prefix": as_user(facts, USER), "timeout": 30.0},
        "HPCExtension": {"jobs_refresh": 0.0, "site_url": site_url},
    }
    log = Path(facts["dir"]) / "log" / "slurmctld.log"
    with jupyter_server_process(workdir, config) as (url, token), users_script(facts, args.loops):
        offset = log.stat().st_size
        latencies, statuses = poll_jobs(url, token, args.seconds, args.interval)
        refused = backed_off(log, offset)
        status = httpx.get(f"{url}/hpc/status", headers={"Authorization": f"token {token}"})
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
        "statuses": dict(statuses),
        "refused": dict(refused),
        "site": status.json()["site"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--release", default="26.05", help="a Slurm release from 23.02")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--loops", type=int, default=2, help="bob's parallel squeue loops")
    args = parser.parse_args()
    facts = cluster_facts(args.release)
    rows = {}
    with rate_limit_on(args.release), tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "own").mkdir()
        rows["own reads"] = measure(facts, workdir / "own", "", args)
        site_dir, server_dir = workdir / "site", workdir / "server"
        site_dir.mkdir()
        server_dir.mkdir()
        site_config = {"SlurmConnection": {"command_prefix": as_user(facts, facts["site_user"])}}
        with site_service_process(site_dir, site_config, free_port()) as site_url:
            rows["site service"] = measure(facts, server_dir, site_url, args)
    write_results(rows, args, facts)


def write_results(
    rows: dict[str, dict[str, Any]], args: argparse.Namespace, facts: dict[str, Any]
) -> None:
    lines = [
        "# What a rate-limited user sees (`benchmarks/rate_limit.py`)",
        "",
        (
            f"Slurm {facts['slurm_version']}, `SlurmctldParameters=rl_enable` (Slurm's default"
            f" bucket); bob runs {args.loops} squeue loops of his own; his server's /hpc/jobs"
            f" polled every {args.interval:g} s for {args.seconds:g} s, each poll a fresh listing"
            f" (run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})."
        ),
        "",
        "| bob's server reads | p50 | p95 | max | statuses | RPCs told to back off | status says |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, row in rows.items():
        refused = ", ".join(f"{user} {count}" for user, count in sorted(row["refused"].items()))
        site = row["site"]
        says = "no site service" if site is None else f"via_site {str(site['via_site']).lower()}"
        lines.append(
            f"| {mode} | {row['p50'] * 1000:.0f} ms | {row['p95'] * 1000:.0f} ms"
            f" | {row['max'] * 1000:.0f} ms | {row['statuses']} | {refused or 'none'} | {says} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
