"""/hpc/jobs against the raw Slurm command, with thousands of jobs in the real slurmctld.

    .venv/bin/python benchmarks/jobs_api.py [--jobs 10000] [--clients 100] [--seconds 60]

Run as root on a machine with the local cluster up (`make cluster`). It measures:
- raw and cold, taken in turns so both see the same slurmctld: the squeue command the backend
  runs for the whole queue (delimited text), run directly as alice, and GET
  /hpc/jobs?scope=all on a server whose cache is off (every request runs squeue); medians of
  --repeat rounds. Each read after the first reuses the records of unchanged squeue lines, as
  a running server does; the first read of a just started server, which has nothing to reuse,
  is measured apart on --first-reads fresh servers, and reads in which some lines did change
  with --changed-lines (between two rounds that many jobs are renamed, as a running job's
  elapsed time changes its line). `squeue --json` is timed too;
- warm: the same on a server whose cache holds the listing (median of 200 sequential GETs);
- load, twice, with --clients clients (browser tabs) for --seconds each:
  - "Lab": each client polls what an open Lab sidebar polls, at the default intervals of the
    extension's settings (schema/*.json): its jobs view (half the clients "mine", half "all")
    every 10 s, partitions and quotas every 30 s, announcements every 60 s; status once;
  - "stress": each client polls all six GET routes every --stress-interval seconds.
  Every poll sends If-None-Match and accepts gzip. Clients keep their connections open, as
  browsers do, and start at random moments within each interval, as tabs are opened at
  different times. Per route: latency p50/p99 (each client's first poll, which downloads the
  body, apart), errors, 304s, and how often each Slurm command ran.

Slurm invocations are counted by a command prefix that logs each command before running it
as alice, the way a site would use `ssh login01`. The benchmark's jobs are submitted held, as
bob, named `bench-*`, and cancelled at the end unless --keep-jobs.
Results are written to benchmarks/results/jobs_api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from keepalive import KeepAliveConnection

from jupyterlab_hpc.slurm.commands.fields import query_separator
from jupyterlab_hpc.slurm.commands.squeue import squeue_argv
from jupyterlab_hpc.tests.server_process import jupyter_server_process

REPOSITORY = Path(__file__).parent.parent
RESULTS = REPOSITORY / "benchmarks" / "results" / "jobs_api.md"
JOB_PREFIX = "bench-"
# The backend's query for the whole queue, run directly as the server's user (the backend
# makes a fresh separator for every read; which one makes no difference to squeue's time).
RAW_SQUEUE = ["runuser", "-u", "alice", "--", *squeue_argv(query_separator())]


def run_as(user: str, argv: list[str]) -> str:
    return subprocess.run(
        ["runuser", "-u", user, "--", *argv], capture_output=True, text=True, check=True
    ).stdout


def queued_bench_jobs() -> int:
    names = run_as("bob", ["squeue", "--me", "--noheader", "--format=%j"]).split()
    return sum(name.startswith(JOB_PREFIX) for name in names)


def fill_queue(count: int) -> None:
    """Held jobs as bob until the queue holds ``count`` of them; held so they use no nodes."""
    missing = count - queued_bench_jobs()
    if missing <= 0:
        return
    print(f"submitting {missing} held jobs as bob ...", flush=True)
    started = time.monotonic()

    def submit(index: int) -> None:
        argv = ["sbatch", "--hold", "--parsable", f"--job-name={JOB_PREFIX}{index}",
                "--output=/dev/null", "--chdir=/tmp", "--wrap=true"]  # fmt: skip
        for attempt in range(5):
            try:
                run_as("bob", argv)
                return
            except subprocess.CalledProcessError:
                # slurmctld still holds the records of a previous run's jobs (MinJobAge) and
                # refuses new ones at MaxJobCount until it has purged them.
                time.sleep(2 * (attempt + 1))
        run_as("bob", argv)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(submit, range(missing)))
    print(f"  {missing} jobs in {time.monotonic() - started:.0f} s", flush=True)


def bench_job_ids() -> list[str]:
    listing = run_as("bob", ["squeue", "--me", "--noheader", "--format=%i %j"]).splitlines()
    return [line.split()[0] for line in listing if line.split()[1].startswith(JOB_PREFIX)]


def rename_jobs(job_ids: list[str], name: str) -> None:
    subprocess.run(
        ["scontrol", "update", f"JobId={','.join(job_ids)}", f"JobName={name}"],
        capture_output=True,
        check=True,
    )


def cancel_bench_jobs() -> None:
    subprocess.run(
        ["scancel", "--user=bob", f"--name={JOB_PREFIX}*"], capture_output=True, check=False
    )
    bench = bench_job_ids()
    for start in range(0, len(bench), 1000):
        subprocess.run(["scancel", *bench[start : start + 1000]], check=False)


def seconds_to_run(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - started


@contextmanager
def jupyter_server(refresh: float, command_log: Path) -> Iterator[tuple[str, str]]:
    """A Jupyter server with the extension, reaching Slurm as alice through a logging prefix."""
    workdir = Path(tempfile.mkdtemp(prefix="hpc-bench-"))
    recorder = workdir / "record-and-run"
    recorder.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$1" >> {command_log}\nexec runuser -u alice -- "$@"\n'
    )
    recorder.chmod(0o755)
    config = {
        "ServerApp": {"root_dir": str(workdir)},
        "SlurmConnection": {"command_prefix": [str(recorder)]},
        "HPCExtension": {"jobs_refresh": refresh},
    }
    try:
        with jupyter_server_process(workdir, config) as (url, token):
            yield url, token
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class Poll:
    """One route a client polls, every ``interval`` seconds (None: once)."""

    route: str
    interval: float | None


def lab_polls(client: int) -> list[Poll]:
    """What an open Lab sidebar polls, at the defaults of the extension's settings."""
    sidebar = setting_defaults("sidebar.json")
    jobs, cluster = sidebar["refreshInterval"], sidebar["clusterRefreshInterval"]
    announcements = setting_defaults("announcements.json")["announcementsRefreshInterval"]
    return [
        Poll("jobs?scope=all" if client % 2 else "jobs?scope=mine", jobs),
        Poll("partitions", cluster),
        Poll("quotas", cluster),
        Poll("announcements", announcements),
        Poll("status", None),  # read when the sidebar opens
    ]


def stress_polls(interval: float) -> list[Poll]:
    routes = ("jobs?scope=all", "jobs?scope=mine", "partitions", "quotas", "announcements")
    return [Poll(route, interval) for route in (*routes, "status")]


def setting_defaults(schema: str) -> dict[str, float]:
    properties = json.loads((REPOSITORY / "schema" / schema).read_text())["properties"]
    return {name: spec["default"] for name, spec in properties.items() if "default" in spec}


def connect(url: str, token: str) -> KeepAliveConnection:
    host, port = url.removeprefix("http://").split(":")
    # Like a browser: the token, and gzip welcome.
    headers = {"Authorization": f"token {token}", "Accept-Encoding": "gzip"}
    return KeepAliveConnection(host, int(port), headers)


async def sequential_latencies(url: str, token: str, count: int, scope: str = "all") -> list[float]:
    """GET /hpc/jobs?scope=``scope`` ``count`` times, one after the other, on one connection."""
    connection, latencies = connect(url, token), []
    for _ in range(count):
        started = time.perf_counter()
        status, _, _ = await connection.get(f"/hpc/jobs?scope={scope}")
        latencies.append(time.perf_counter() - started)
        if status != 200:
            msg = f"/hpc/jobs answered {status}"
            raise RuntimeError(msg)
    await connection.close()
    return latencies


@dataclass
class RouteLoad:
    # Every client's first poll downloads the whole body: kept apart from the polls after it.
    first_latencies: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    not_modified: int = 0
    errors: int = 0

    def percentile_ms(self, fraction: float, *, first: bool = False) -> float:
        ordered = sorted(self.first_latencies if first else self.latencies)
        if not ordered:
            return math.nan
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    @property
    def requests(self) -> int:
        return len(self.first_latencies) + len(self.latencies)


async def poll_load(
    url: str, token: str, polls_of: list[list[Poll]], seconds: float
) -> dict[str, RouteLoad]:
    """Each client polls its routes with If-None-Match, each over its own open connection (a
    browser keeps several per server), starting at a random moment within the interval."""
    loads: dict[str, RouteLoad] = {}
    deadline = time.monotonic() + seconds

    async def poll(what: Poll) -> None:
        load = loads.setdefault(what.route, RouteLoad())
        connection, etag, first = connect(url, token), "", True
        await asyncio.sleep(random.uniform(0, what.interval or 0))  # noqa: S311 - not crypto
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, etag, _ = await connection.get(f"/hpc/{what.route}", etag)
            except Exception:  # noqa: BLE001 - every failure is counted, none stops the run
                load.errors += 1
            else:
                load.ok += status == 200
                load.not_modified += status == 304
                load.errors += status not in {200, 304}
            (load.first_latencies if first else load.latencies).append(
                time.perf_counter() - started
            )
            first = False
            if what.interval is None:
                break
            await asyncio.sleep(max(0.0, what.interval - (time.perf_counter() - started)))
        await connection.close()

    await asyncio.gather(*(poll(what) for polls in polls_of for what in polls))
    return loads


def load_table(title: str, loads: dict[str, RouteLoad]) -> list[str]:
    everything = RouteLoad()
    for load in loads.values():
        everything.first_latencies += load.first_latencies
        everything.latencies += load.latencies
        everything.errors += load.errors

    def ms(value: float, digits: int) -> str:
        return "-" if math.isnan(value) else f"{value:.{digits}f}"  # no poll after the first

    def row(name: str, load: RouteLoad, counts: str) -> str:
        return (
            f"| {name} | {load.requests} | {counts} | {load.errors} | "
            f"{ms(load.percentile_ms(0.5), 1)} | {ms(load.percentile_ms(0.99), 1)} | "
            f"{ms(load.percentile_ms(0.5, first=True), 0)} / "
            f"{ms(load.percentile_ms(1.0, first=True), 0)} |"
        )

    return [
        title,
        "",
        "| route | requests | 200 / 304 | errors | p50 ms | p99 ms | first poll: p50 / max ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(
            row(f"/hpc/{route}", load, f"{load.ok} / {load.not_modified}")
            for route, load in loads.items()
        ),
        row("all", everything, ""),
    ]


def slurm_calls(command_log: Path) -> Counter[str]:
    """How often each Slurm command ran, from the logging prefix's lines."""
    if not command_log.exists():
        return Counter()
    return Counter(line.strip() for line in command_log.read_text().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--stress-interval", type=float, default=1.0, help="seconds between a stress poll's polls"
    )
    parser.add_argument("--refresh", type=float, default=5.0, help="the server's jobs_refresh")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--first-reads", type=int, default=5)
    parser.add_argument(
        "--changed-lines",
        default="1000,3000",
        help="comma-separated: how many jobs change between two cold reads, one server each",
    )
    parser.add_argument("--keep-jobs", action="store_true")
    args = parser.parse_args()

    fill_queue(args.jobs)
    in_queue = len(run_as("alice", ["squeue", "--noheader", "--format=%i"]).split())
    raw_json = statistics.median(
        seconds_to_run(["runuser", "-u", "alice", "--", "squeue", "--json"]) for _ in range(3)
    )
    slurm_version = run_as("alice", ["sinfo", "--version"]).split()[-1]

    with tempfile.TemporaryDirectory() as logs:
        raw_text, cold = raw_and_cold(Path(logs) / "cold.log", args.repeat)
        first_raw, first_read = raw_and_first_read(Path(logs) / "first.log", args.first_reads)
        changing = {
            count: raw_and_cold(Path(logs) / "changing.log", args.repeat, changed_lines=count)
            for count in map(int, filter(None, args.changed_lines.split(",")))
        }
        lines = [
            "# REST API benchmark: /hpc/jobs and every GET route under load",
            "",
            (
                f"`{' '.join(sys.argv)}` on {time.strftime('%Y-%m-%d')}, Slurm {slurm_version}, "
                f"{in_queue} jobs in the queue."
            ),
            "",
            "| measure | value | target (benchmarks/README.md) |",
            "| --- | --- | --- |",
            f"| raw `squeue --Format` (the backend's query), median | {raw_text * 1000:.0f} ms | |",
            f"| raw `squeue --json`, median of 3 | {raw_json * 1000:.0f} ms | |",
            (
                f"| /hpc/jobs cold (cache off), median | {cold * 1000:.0f} ms = "
                f"{cold / min(raw_text, raw_json):.2f} x fastest raw | <= 1.2 x |"
            ),
            (
                f"| /hpc/jobs cold, first read of a started server (nothing to reuse), median "
                f"of {args.first_reads} | {first_read * 1000:.0f} ms = "
                f"{first_read / first_raw:.2f} x raw ({first_raw * 1000:.0f} ms, same rounds) | |"
            ),
            *(
                f"| /hpc/jobs cold, {count} lines changed since the previous read, median | "
                f"{read * 1000:.0f} ms = {read / raw:.2f} x raw ({raw * 1000:.0f} ms, same "
                "rounds) | |"
                for count, (raw, read) in changing.items()
            ),
        ]
        command_log = Path(logs) / "warm.log"
        with jupyter_server(args.refresh, command_log) as (url, token):
            asyncio.run(sequential_latencies(url, token, 1))
            warm = statistics.median(asyncio.run(sequential_latencies(url, token, 200)))
            lines.append(
                f"| /hpc/jobs warm (cached), median of 200 | {warm * 1000:.1f} ms | <= 10 ms |"
            )
            profiles = (
                (
                    f"Lab: {args.clients} clients polling as an open sidebar does",
                    [lab_polls(client) for client in range(args.clients)],
                ),
                (
                    (
                        f"Stress: {args.clients} clients polling all six GET routes every "
                        f"{args.stress_interval:g} s"
                    ),
                    [stress_polls(args.stress_interval) for _ in range(args.clients)],
                ),
            )
            for title, polls_of in profiles:
                before = slurm_calls(command_log)
                loads = asyncio.run(poll_load(url, token, polls_of, args.seconds))
                calls = slurm_calls(command_log) - before
                lines += [
                    "",
                    *load_table(f"## {title}, for {args.seconds:g} s", loads),
                    "",
                    f"Slurm commands run meanwhile (jobs_refresh {args.refresh:g} s, other kinds "
                    "at their defaults: partitions 10 s, quotas 60 s, announcements 60 s, status "
                    "300 s): "
                    + ", ".join(f"`{name}` x {count}" for name, count in sorted(calls.items()))
                    + ".",
                ]
    lines += [
        "",
        (
            "Targets (benchmarks/README.md) for 100 clients: 0 errors, p99 <= 100 ms, Slurm asked "
            "once per interval per data kind, an unchanged poll answered with a 304."
        ),
    ]
    if not args.keep_jobs:
        cancel_bench_jobs()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def raw_and_cold(command_log: Path, repeat: int, changed_lines: int = 0) -> tuple[float, float]:
    """Medians of the raw squeue and of /hpc/jobs with the cache off, taken in turns: how
    fast slurmctld answers drifts over minutes (its scheduler works through the queue).
    Before each round ``changed_lines`` jobs get a new name, so that many lines of the
    listing differ from the server's previous read."""
    to_rename = bench_job_ids()[:changed_lines]
    raw, cold = [], []
    with jupyter_server(0.0, command_log) as (url, token):
        asyncio.run(sequential_latencies(url, token, 1))  # the first request loads the handlers
        for round_number in range(repeat):
            if to_rename:
                rename_jobs(to_rename, f"{JOB_PREFIX}round-{round_number}")
            raw.append(seconds_to_run(RAW_SQUEUE))
            cold += asyncio.run(sequential_latencies(url, token, 1))
    return statistics.median(raw), statistics.median(cold)


def raw_and_first_read(command_log: Path, servers: int) -> tuple[float, float]:
    """Medians of the raw squeue and of the first /hpc/jobs?scope=all of ``servers`` freshly
    started servers, each after one request for the user's own jobs has loaded the handlers."""
    raw, first = [], []
    for _ in range(servers):
        with jupyter_server(0.0, command_log) as (url, token):
            asyncio.run(sequential_latencies(url, token, 1, scope="mine"))
            raw.append(seconds_to_run(RAW_SQUEUE))
            first += asyncio.run(sequential_latencies(url, token, 1))
    return statistics.median(raw), statistics.median(first)


if __name__ == "__main__":
    main()
