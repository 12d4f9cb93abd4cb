"""Slurm's load against the number of users, without and with the site service.

    python3 cluster/slurm_cluster.py up --release 26.05 --users 200 --max-job-count 20000
    .venv/bin/python benchmarks/site_load.py [--release 26.05] [--users 10,50,200]
        [--servers 50] [--jobs 10000] [--seconds 300]

Run as root, on a cluster of its own (another release's, so that the tests' cluster is left
alone). --jobs held jobs are spread over the simulated users (hpcuser001...). Then for each
number of users N, twice:

- "own": every user's server asks Slurm itself, as today without a site service;
- "site": every user's server reads through `jupyter hpc-site`, run as the operator account.

Of the N users, up to --servers are real Jupyter servers with the extension (production
settings), each run as its user and polled as an open Lab sidebar polls it (jobs every 10 s,
partitions and quotas every 30 s, announcements every 60 s, status once: the extension's
setting defaults); the others do what a server does for such a sidebar, in this process: as
their user through Slurm's commands ("own"), or through the site service, proving their user
with MUNGE exactly as a server does ("site"). Measured over --seconds: slurmctld's RPCs by
message type per minute (`sdiag`, reset at the start), each user's request latency (all of
them, and apart from each user's first read of each route: a server's start, with its proof of
user to the service, against its steady polling), and the site service's CPU time and peak
memory. Results go to benchmarks/results/site_load.md, rendered from site_load.json, where a
run replaces the rows (users, reads) it measured and keeps the others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs_api import RouteLoad, lab_polls, poll_load, setting_defaults

from jupyterlab_hpc.site.client import SiteClient
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.records import AccountQuota, Job, Partition
from jupyterlab_hpc.tests.server_process import (
    free_port,
    jupyter_server_process,
    site_service_process,
)

REPOSITORY = Path(__file__).parent.parent
RESULTS = REPOSITORY / "benchmarks" / "results" / "site_load.md"
ROWS = RESULTS.with_suffix(".json")
JOB_PREFIX = "bench-site-"
# sdiag's own RPCs, made by this benchmark, not by the users.
OWN_RPCS = {"REQUEST_STATS_INFO"}
RPC_LINE = re.compile(r"^\s+(?P<type>[A-Z_]+)\s+\(\s*\d+\)\s+count:(?P<count>\d+)", re.MULTILINE)


def cluster_facts(release: str) -> dict[str, Any]:
    suffix = "" if release == "22.05" else f"-{release}"
    facts = Path(f"/var/tmp/jupyterlab-hpc-cluster{suffix}/cluster.json")
    return dict(json.loads(facts.read_text()))


class Cluster:
    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.root_prefix: list[str] = list(facts["command_prefix"])

    def as_user(self, user: str) -> list[str]:
        return [*self.root_prefix, "runuser", "-u", user, "--"]

    def run(self, argv: list[str], user: str | None = None) -> str:
        prefix = self.as_user(user) if user else self.root_prefix
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=True).stdout

    def bench_jobs(self) -> int:
        names = self.run(["squeue", "--all", "--noheader", "--format=%j"]).split()
        return sum(name.startswith(JOB_PREFIX) for name in names)

    def fill_queue(self, count: int, users: list[str]) -> None:
        """Held jobs (they use no nodes) spread over ``users`` until ``count`` are queued."""
        missing = count - self.bench_jobs()
        if missing <= 0:
            return
        print(f"submitting {missing} held jobs ...", flush=True)
        started = time.monotonic()

        def submit(index: int) -> None:
            argv = ["sbatch", "--hold", f"--job-name={JOB_PREFIX}{index}", "--output=/dev/null",
                    "--chdir=/tmp", "--wrap=true"]  # fmt: skip
            self.run(argv, users[index % len(users)])

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(submit, range(missing)))
        print(f"  {missing} jobs in {time.monotonic() - started:.0f} s", flush=True)

    def cancel_bench_jobs(self) -> None:
        listing = self.run(["squeue", "--all", "--noheader", "--format=%i %j"]).splitlines()
        ids = [line.split()[0] for line in listing if line.split()[1].startswith(JOB_PREFIX)]
        for start in range(0, len(ids), 1000):
            subprocess.run(
                [*self.root_prefix, "scancel", *ids[start : start + 1000]],
                capture_output=True,
                check=False,
            )

    def rpc_counts(self, *, reset: bool) -> Counter[str]:
        """slurmctld's RPCs by message type since the last reset (which ``reset`` makes)."""
        output = self.run(["sdiag"])
        counts = Counter(
            {m["type"]: int(m["count"]) for m in RPC_LINE.finditer(_by_type_section(output))}
        )
        if reset:
            self.run(["sdiag", "--reset"])
        for own in OWN_RPCS:
            counts.pop(own, None)
        return counts


def _by_type_section(sdiag: str) -> str:
    start = sdiag.find("Remote Procedure Call statistics by message type")
    end = sdiag.find("Remote Procedure Call statistics by user")
    return sdiag[start:end] if start >= 0 else ""


def process_usage(pid: int) -> tuple[float, float]:
    """CPU seconds used so far and peak resident memory (MB) of a process and its children."""
    ticks = 100.0  # os.sysconf("SC_CLK_TCK") on Linux
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM"))
    return cpu, int(peak.split()[1]) / 1024


def listening_pid(port: int) -> int:
    output = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"pid=(\d+)", output)
    if match is None:
        msg = f"nothing listens on {port}"
        raise RuntimeError(msg)
    return int(match[1])


@contextmanager
def real_servers(
    cluster: Cluster, users: list[str], site_url: str, workdir: Path
) -> Iterator[list[tuple[str, str]]]:
    """A Jupyter server with the extension per user (started side by side); URLs and tokens."""
    with ExitStack() as stack:

        def start(user: str) -> tuple[AbstractContextManager[tuple[str, str]], tuple[str, str]]:
            folder = workdir / user
            folder.mkdir()
            config: dict[str, Any] = {
                "ServerApp": {"root_dir": str(folder)},
                "SlurmConnection": {"command_prefix": cluster.as_user(user), "timeout": 60.0},
                "HPCExtension": {"site_url": site_url},
            }
            server = jupyter_server_process(folder, config)
            return server, server.__enter__()

        with ThreadPoolExecutor(max_workers=8) as pool:
            started = list(pool.map(start, users))
        for server, _ in started:
            stack.push(server)
        yield [address for _, address in started]


async def simulated_user(
    reads: dict[str, Callable[[], Awaitable[object]]], seconds: float
) -> dict[str, list[float]]:
    """What a server does for an open sidebar, at its polling intervals; each read's time."""
    sidebar = setting_defaults("sidebar.json")
    intervals = {
        "jobs": sidebar["refreshInterval"],
        "partitions": sidebar["clusterRefreshInterval"],
        "quotas": sidebar["clusterRefreshInterval"],
    }
    latencies: dict[str, list[float]] = {name: [] for name in reads}
    firsts: dict[str, list[float]] = {f"{name} first": [] for name in reads}
    errors: dict[str, list[float]] = {f"{name} errors": [] for name in reads}
    deadline = time.monotonic() + seconds

    async def poll(name: str) -> None:
        await asyncio.sleep(random.uniform(0, intervals[name]))  # noqa: S311 - not crypto
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                await reads[name]()
            except Exception:  # noqa: BLE001 - counted, and the user polls on
                errors[f"{name} errors"].append(0.0)
            first = not (latencies[name] or firsts[f"{name} first"])
            (firsts[f"{name} first"] if first else latencies[name]).append(
                time.perf_counter() - started
            )
            await asyncio.sleep(max(0.0, intervals[name] - (time.perf_counter() - started)))

    await asyncio.gather(*(poll(name) for name in reads))
    return {**latencies, **firsts, **errors}


def own_reads(
    cluster: Cluster, user: str, index: int
) -> dict[str, Callable[[], Awaitable[object]]]:
    slurm = SlurmCommands(command_prefix=cluster.as_user(user), timeout=60.0)
    return {
        "jobs": lambda: slurm.list_jobs(mine=index % 2 == 0),
        "partitions": slurm.list_partitions,
        "quotas": lambda: slurm.list_quotas(user),
    }


def site_reads(
    cluster: Cluster, site_url: str, user: str, index: int
) -> dict[str, Callable[[], Awaitable[object]]]:
    site = SiteClient(
        site_url,
        service_user=cluster.facts["site_user"],
        command_prefix=cluster.as_user(user),
        timeout=60.0,
    )
    scope = "all" if index % 2 else "mine"
    return {
        "jobs": lambda: site.items("/api/jobs", Job, scope=scope),
        "partitions": lambda: site.items("/api/partitions", Partition),
        "quotas": lambda: site.items("/api/quotas", AccountQuota),
    }


async def load(
    cluster: Cluster,
    servers: list[tuple[str, str]],
    simulated: list[dict[str, Callable[[], Awaitable[object]]]],
    seconds: float,
) -> tuple[Latencies, int, list[Counter[str]]]:
    """Everybody polling for ``seconds``; latencies, errors, RPCs of each minute."""
    cluster.rpc_counts(reset=True)
    minutes: list[Counter[str]] = []

    async def count_rpcs() -> None:
        for _ in range(int(seconds // 60)):
            await asyncio.sleep(60)
            minutes.append(await asyncio.to_thread(cluster.rpc_counts, reset=True))

    results = await asyncio.gather(
        count_rpcs(),
        *(poll_load(url, token, [lab_polls(i)], seconds) for i, (url, token) in enumerate(servers)),
        *(simulated_user(reads, seconds) for reads in simulated),
    )
    steady: list[float] = []
    first: list[float] = []
    errors = 0
    for result in results[1:]:
        for name, values in result.items():
            if isinstance(values, RouteLoad):
                first += values.first_latencies
                steady += values.latencies
                errors += values.errors
            elif name.endswith(" errors"):
                errors += len(values)
            elif name.endswith(" first"):
                first += values
            else:
                steady += values
    return Latencies(first, steady), errors, minutes


@dataclass
class Latencies:
    """Each user's first read of each route (a server starting, its proof of user to the
    service included), and every read after it (steady polling)."""

    first: list[float]
    steady: list[float]

    def p(self, fraction: float, *, steady_only: bool = False) -> float:
        ordered = sorted(self.steady if steady_only else self.first + self.steady)
        return ordered[int(fraction * (len(ordered) - 1))] if ordered else math.nan


def measure(
    cluster: Cluster, users: list[str], mode: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    real, others = users[: args.servers], users[args.servers :]
    with ExitStack() as stack:
        site_url, service_pid, service_start = "", 0, (0.0, 0.0)
        if mode == "site":
            port = free_port()
            config = {
                "SlurmConnection": {"command_prefix": cluster.as_user(cluster.facts["site_user"])}
            }
            site_dir = workdir / f"site-{mode}-{len(users)}"
            site_dir.mkdir()
            site_url = stack.enter_context(site_service_process(site_dir, config, port))
            service_pid = listening_pid(port)
            service_start = process_usage(service_pid)
        server_dir = workdir / f"servers-{mode}-{len(users)}"
        server_dir.mkdir()
        servers = stack.enter_context(real_servers(cluster, real, site_url, server_dir))
        simulated = [
            site_reads(cluster, site_url, user, i) if site_url else own_reads(cluster, user, i)
            for i, user in enumerate(others)
        ]
        print(
            f"N={len(users)} {mode}: {len(servers)} servers, {len(simulated)} simulated", flush=True
        )
        latencies, errors, minutes = asyncio.run(load(cluster, servers, simulated, args.seconds))
        cpu, peak = (0.0, 0.0)
        if service_pid:
            cpu_now, peak = process_usage(service_pid)
            cpu = cpu_now - service_start[0]
    total = sum(minutes, Counter())
    per_minute = {kind: count / len(minutes) for kind, count in total.items()}
    return {
        "users": len(users),
        "mode": mode,
        "servers": len(real),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "p50": latencies.p(0.5),
        "p99": latencies.p(0.99),
        "steady_p99": latencies.p(0.99, steady_only=True),
        "requests": len(latencies.first) + len(latencies.steady),
        "errors": errors,
        "rpc_per_minute": per_minute,
        "minutes": [dict(minute) for minute in minutes],
        "service_cpu": cpu,
        "service_peak_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--release", default="26.05")
    parser.add_argument("--users", default="10,50,200", help="comma-separated user counts")
    parser.add_argument("--servers", type=int, default=50, help="real Jupyter servers, at most")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--modes", default="own,site")
    parser.add_argument("--keep-jobs", action="store_true")
    args = parser.parse_args()
    cluster = Cluster(cluster_facts(args.release))
    counts = [int(n) for n in args.users.split(",")]
    everybody = list(cluster.facts["extra_users"])
    if len(everybody) < max(counts):
        parser.error(f"the cluster has {len(everybody)} simulated users: up --users {max(counts)}")
    cluster.fill_queue(args.jobs, everybody[: max(counts)])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for count in counts:
                for mode in args.modes.split(","):
                    row = measure(cluster, everybody[:count], mode, args, Path(tmp))
                    write_results(kept_rows(row), args, cluster.facts)
    finally:
        if not args.keep_jobs:
            cluster.cancel_bench_jobs()


def kept_rows(new: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of earlier runs with ``new`` in place of the one it measured again."""
    rows = json.loads(ROWS.read_text()) if ROWS.exists() else []
    rows = [row for row in rows if (row["users"], row["mode"]) != (new["users"], new["mode"])]
    rows = sorted([*rows, new], key=lambda row: (row["users"], row["mode"] != "own"))
    ROWS.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def write_results(
    rows: list[dict[str, Any]], args: argparse.Namespace, facts: dict[str, Any]
) -> None:
    lines = [
        "# Slurm's load against the number of users (`benchmarks/site_load.py`)",
        "",
        (
            f"Slurm {facts['slurm_version']}, {args.jobs} held jobs in the queue, each user"
            f" polling as an open Lab sidebar for {args.seconds:g} s; up to {args.servers} of"
            " them real Jupyter servers (2 CPUs shared by slurmctld, the servers, the service"
            " and the load). Steady p99: without each user's first read of each route."
        ),
        "",
        (
            "| users | reads | real servers | job listings /min | REQUEST_PARTITION_INFO /min"
            " | other RPCs /min | all RPCs /min | requests | errors | p50 ms | p99 ms"
            " | steady p99 ms | service CPU s | service peak MB | measured |"
        ),
        "|" + " --- |" * 15,
    ]
    for row in rows:
        rpcs = row["rpc_per_minute"]
        # squeue asks for the whole queue (REQUEST_JOB_INFO) or, with --me, a user's jobs.
        jobs = rpcs.get("REQUEST_JOB_INFO", 0) + rpcs.get("REQUEST_JOB_USER_INFO", 0)
        partitions = rpcs.get("REQUEST_PARTITION_INFO", 0)
        everything = sum(rpcs.values())
        service = (
            f"{row['service_cpu']:.0f} | {row['service_peak_mb']:.0f}"
            if row["mode"] == "site"
            else "- | -"
        )
        lines.append(
            f"| {row['users']} | {row['mode']} | {row['servers']} | {jobs:.0f} | {partitions:.0f}"
            f" | {everything - jobs - partitions:.0f} | {everything:.0f} | {row['requests']}"
            f" | {row['errors']} | {row['p50'] * 1000:.0f} | {row['p99'] * 1000:.0f}"
            f" | {_milliseconds(row.get('steady_p99', math.nan))} | {service}"
            f" | {row.get('measured', '')} |"
        )
    lines += ["", "RPCs by message type, per minute:", ""]
    for row in rows:
        kinds = ", ".join(f"{k} {v:.0f}" for k, v in sorted(row["rpc_per_minute"].items()))
        lines.append(f"- N={row['users']} {row['mode']}: {kinds}")
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


def _milliseconds(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


if __name__ == "__main__":
    main()
