"""/hpc/jobs against the raw Slurm command, with thousands of jobs in the real slurmctld.

    .venv/bin/python benchmarks/jobs_api.py [--jobs 10000] [--clients 100] [--seconds 60]

Run as root on a machine with the local cluster up (`make cluster`). It measures:
- raw: the squeue command the backend runs for the whole queue (delimited text) and
  `squeue --json` for the same jobs, run directly as alice (median of --repeat runs);
- cold: GET /hpc/jobs?scope=all on a server whose cache is off (every request runs squeue);
- warm: the same on a server whose cache holds the listing (median of 200 sequential GETs);
- load: --clients concurrent clients, each polling every GET route (both job views,
  partitions, quotas, announcements, status) with If-None-Match every --interval seconds for
  --seconds; latency p50/p99 per route, errors, 304s and how often each Slurm command ran.

Slurm invocations are counted by a command prefix that logs each command before running it
as alice, the way a site would use `ssh login01`. The benchmark's jobs are submitted held, as
bob, named `bench-*`, and cancelled at the end unless --keep-jobs.
Results are written to benchmarks/results/jobs_api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
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

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from jupyterlab_hpc.slurm.squeue import squeue_argv

RESULTS = Path(__file__).parent / "results" / "jobs_api.md"
JOB_PREFIX = "bench-"


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


def cancel_bench_jobs() -> None:
    subprocess.run(
        ["scancel", "--user=bob", f"--name={JOB_PREFIX}*"], capture_output=True, check=False
    )
    ids = run_as("bob", ["squeue", "--me", "--noheader", "--format=%i %j"]).splitlines()
    bench = [line.split()[0] for line in ids if line.split()[1].startswith(JOB_PREFIX)]
    for start in range(0, len(bench), 1000):
        subprocess.run(["scancel", *bench[start : start + 1000]], check=False)


def median_seconds(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jupyter_server(refresh: float, command_log: Path) -> Iterator[tuple[str, str]]:
    """A Jupyter server with the extension, reaching Slurm as alice through a logging prefix."""
    workdir = Path(tempfile.mkdtemp(prefix="hpc-bench-"))
    recorder = workdir / "record-and-run"
    recorder.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$1" >> {command_log}\nexec runuser -u alice -- "$@"\n'
    )
    recorder.chmod(0o755)
    token, port = secrets.token_hex(16), free_port()
    config = {
        "ServerApp": {
            "port": port,
            "ip": "127.0.0.1",
            "token": token,
            "open_browser": False,
            "allow_root": True,
            "root_dir": str(workdir),
            "jpserver_extensions": {"jupyterlab_hpc": True},
        },
        "SlurmCommands": {"command_prefix": [str(recorder)]},
        "HPCExtension": {"jobs_refresh": refresh},
    }
    (workdir / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    msg = f"the Jupyter server did not listen on {port} within {timeout} s"
    raise RuntimeError(msg)


# What an open Lab polls: both job views, partitions, quotas, announcements and the status.
LOAD_ROUTES = (
    "jobs?scope=all",
    "jobs?scope=mine",
    "partitions",
    "quotas",
    "announcements",
    "status",
)


async def get_route(
    client: AsyncHTTPClient, url: str, token: str, route: str = "jobs?scope=all", etag: str = ""
) -> tuple[int, str]:
    headers = {"Authorization": f"token {token}"}
    if etag:
        headers["If-None-Match"] = etag
    request = HTTPRequest(f"{url}/hpc/{route}", headers=headers, request_timeout=60)
    try:
        response = await client.fetch(request)
    except HTTPClientError as error:
        if error.code == 304:
            return 304, etag
        raise
    return response.code, response.headers.get("ETag", "")


async def sequential_latencies(url: str, token: str, count: int) -> list[float]:
    client = AsyncHTTPClient()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        await get_route(client, url, token)
        latencies.append(time.perf_counter() - started)
    return latencies


@dataclass
class RouteLoad:
    # Every client's first poll downloads the whole body at the same instant as the others':
    # kept apart from the steady polling that follows.
    first_latencies: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    not_modified: int = 0
    errors: int = 0

    def percentile_ms(self, fraction: float, *, first: bool = False) -> float:
        ordered = sorted(self.first_latencies if first else self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def poll_load(
    url: str, token: str, clients: int, seconds: float, interval: float
) -> dict[str, RouteLoad]:
    """Each client polls every route once per interval, with If-None-Match, like a Lab tab."""
    AsyncHTTPClient.configure(None, max_clients=clients * len(LOAD_ROUTES))
    client = AsyncHTTPClient()
    loads = {route: RouteLoad() for route in LOAD_ROUTES}
    deadline = time.monotonic() + seconds

    async def poll(route: str) -> None:
        load, etag, etag_known = loads[route], "", False
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, etag = await get_route(client, url, token, route, etag)
            except Exception:  # noqa: BLE001 - every failure is counted, none stops the run
                load.errors += 1
            else:
                load.ok += status == 200
                load.not_modified += status == 304
            latencies = load.latencies if etag_known else load.first_latencies
            latencies.append(time.perf_counter() - started)
            etag_known = True
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    await asyncio.gather(*(poll(route) for _ in range(clients) for route in LOAD_ROUTES))
    return loads


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
        "--interval", type=float, default=1.0, help="seconds between a client's polls"
    )
    parser.add_argument("--refresh", type=float, default=5.0, help="the server's jobs_refresh")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep-jobs", action="store_true")
    args = parser.parse_args()

    fill_queue(args.jobs)
    in_queue = len(run_as("alice", ["squeue", "--noheader", "--format=%i"]).split())
    raw_text = median_seconds(["runuser", "-u", "alice", "--", *squeue_argv()], args.repeat)
    raw_json = median_seconds(["runuser", "-u", "alice", "--", "squeue", "--json"], args.repeat)
    slurm_version = run_as("alice", ["sinfo", "--version"]).split()[-1]
    lines = [
        "# REST API benchmark: /hpc/jobs and every GET route under load",
        "",
        (
            f"`{' '.join(sys.argv)}` on {time.strftime('%Y-%m-%d')}, Slurm {slurm_version}, "
            f"{in_queue} jobs in the queue."
        ),
        "",
        "| measure | value | target (DESIGN.md) |",
        "| --- | --- | --- |",
        f"| raw `squeue --Format` (the backend's query), median | {raw_text * 1000:.0f} ms | |",
        f"| raw `squeue --json`, median | {raw_json * 1000:.0f} ms | |",
    ]
    fastest_raw = min(raw_text, raw_json)

    with tempfile.TemporaryDirectory() as logs:
        command_log = Path(logs) / "cold.log"
        with jupyter_server(0.0, command_log) as (url, token):
            asyncio.run(sequential_latencies(url, token, 1))  # first request loads the handlers
            cold = statistics.median(asyncio.run(sequential_latencies(url, token, args.repeat)))
        ratio = cold / fastest_raw
        lines.append(
            f"| /hpc/jobs cold (cache off), median | {cold * 1000:.0f} ms = {ratio:.2f} x "
            f"fastest raw | <= 1.2 x |"
        )

        command_log = Path(logs) / "warm.log"
        with jupyter_server(args.refresh, command_log) as (url, token):
            asyncio.run(sequential_latencies(url, token, 1))
            warm = statistics.median(asyncio.run(sequential_latencies(url, token, 200)))
            lines.append(
                f"| /hpc/jobs warm (cached), median of 200 | {warm * 1000:.1f} ms | <= 10 ms |"
            )
            before = slurm_calls(command_log)
            loads = asyncio.run(poll_load(url, token, args.clients, args.seconds, args.interval))
            calls = slurm_calls(command_log) - before
        everything = RouteLoad()
        for load in loads.values():
            everything.first_latencies += load.first_latencies
            everything.latencies += load.latencies
            everything.errors += load.errors
        lines += [
            "",
            (
                f"## {args.clients} clients, each polling every GET route once per "
                f"{args.interval:g} s for {args.seconds:g} s (If-None-Match)"
            ),
            "",
            "Latency of the polls after each client's first (the first polls, all at the same",
            "instant, each download the whole body; their figures are in the last columns).",
            "",
            "| route | requests | 200 | 304 | errors | p50 ms | p99 ms | first: p50 / max ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(
                f"| /hpc/{route} | {len(load.latencies) + len(load.first_latencies)} | {load.ok} | "
                f"{load.not_modified} | {load.errors} | {load.percentile_ms(0.5):.1f} | "
                f"{load.percentile_ms(0.99):.1f} | {load.percentile_ms(0.5, first=True):.0f} / "
                f"{load.percentile_ms(1.0, first=True):.0f} |"
                for route, load in loads.items()
            ),
            (
                f"| all | {len(everything.latencies) + len(everything.first_latencies)} | | | "
                f"{everything.errors} | {everything.percentile_ms(0.5):.1f} | "
                f"{everything.percentile_ms(0.99):.1f} | "
                f"{everything.percentile_ms(0.5, first=True):.0f} / "
                f"{everything.percentile_ms(1.0, first=True):.0f} |"
            ),
            "",
            "Target (DESIGN.md): 0 errors, p99 <= 100 ms, Slurm asked once per interval per kind.",
            f"Slurm commands run meanwhile (jobs_refresh {args.refresh:g} s, other kinds at their "
            "defaults: partitions 10 s, quotas 60 s, announcements 60 s, status 300 s): "
            + ", ".join(f"`{command}` x {count}" for command, count in sorted(calls.items()))
            + ".",
        ]
    if not args.keep_jobs:
        cancel_bench_jobs()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
