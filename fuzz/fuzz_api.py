"""Fuzz the REST API with schemathesis: a real Jupyter server, the real local Slurm cluster.

    .venv/bin/python fuzz/fuzz_api.py [--max-examples 60] [--seed 1] [--min-requests 1000]

Run as root with the local cluster up (`make cluster`); `make fuzz` does both. A Jupyter
server with the extension starts on a free loopback port with a token, its root an empty
folder owned by alice, reaching Slurm as alice through fuzz/slurm_guard.py (logs every command,
lets job actions through only for this run's own jobs). schemathesis then generates requests
from the OpenAPI document the server serves, valid and invalid, at every route, and checks:
no 5xx, documented status codes, content types and response schemas.

Kernel jobs the run starts are named `fuzz-kernel-<run>` and cancelled at the end (and counted).
Exit status 0 only if schemathesis found nothing, at least --min-requests requests were sent and
no job of the run is left. The server log, the command log and schemathesis' HAR file stay in
the work folder printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from jupyterlab_hpc.openapi import openapi_document
from jupyterlab_hpc.tests.server_process import jupyter_server_process

GUARD = Path(__file__).with_name("slurm_guard.py")
SLURM_USER = "alice"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


@contextmanager
def jupyter_server(workdir: Path, job_name: str) -> Iterator[tuple[str, str]]:
    """A Jupyter server with the extension, reaching Slurm as alice through the guard."""
    root = workdir / "root"
    root.mkdir()
    shutil.chown(root, SLURM_USER, SLURM_USER)
    root.chmod(0o755)
    guard = [sys.executable, "-S", str(GUARD), str(workdir / "commands.log"), job_name]
    prefix = [*guard, "runuser", "-u", SLURM_USER, "--"]
    config = {
        "ServerApp": {"root_dir": str(root)},
        "SlurmConnection": {"command_prefix": prefix, "timeout": 20.0},
        # Every request reaches Slurm: the cache would hide most of what is generated.
        "HPCExtension": {
            "jobs_refresh": 0.0,
            "partitions_refresh": 0.0,
            "quotas_refresh": 0.0,
            "status_refresh": 0.0,
            "announcements_refresh": 0.0,
        },
        # Kernel jobs: alice's too, logged, and named so the run finds (and cancels) them.
        "SlurmProvisioner": {"job_name": job_name},
        # Its own records: a restarted server's reaping must not touch other servers' kernels.
        "RemoteKernels": {"state_dir": str(workdir / "kernel-records")},
    }
    with jupyter_server_process(workdir, config) as (url, token):
        yield url, token


def run_schemathesis(url: str, token: str, workdir: Path, args: argparse.Namespace) -> int:
    # The token reaches schemathesis in its environment, named in its config file: on its
    # command line (--header) any user on the machine could read it with ps.
    config = workdir / "schemathesis.toml"
    config.write_text('headers = { Authorization = "token ${HPC_FUZZ_TOKEN}" }\n')
    argv = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config),
        "run", f"{url}/hpc/openapi.json",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(args.max_examples),
        "--seed", str(args.seed),
        "--workers", str(args.workers),
        "--request-timeout", "60",
        "--generation-database", "none",
        "--report", "har",
        "--report-har-path", str(workdir / "requests.har"),
        "--no-color",
    ]  # fmt: skip
    print("$", " ".join(argv), flush=True)
    with (workdir / "schemathesis.txt").open("w") as output:
        # In the work folder: schemathesis keeps its crash cache (for `st replay`) there.
        status = subprocess.run(
            argv,
            cwd=workdir,
            env={**os.environ, "HPC_FUZZ_TOKEN": token},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    print((workdir / "schemathesis.txt").read_text())
    return status.returncode


def requests_per_route(har: Path) -> dict[str, Counter[int]]:
    """Status codes of the requests sent, by documented operation ("METHOD /path"); methods
    the document does not list (schemathesis probes them for 405) are counted together."""
    paths = openapi_document()["paths"]
    templates = sorted(paths, key=lambda path: (path.count("{"), path))
    patterns = [(re.compile(re.sub(r"\{\w+\}", "[^/]+", t)), t) for t in templates]
    routes: dict[str, Counter[int]] = {}
    for entry in json.loads(har.read_text())["log"]["entries"]:
        method = entry["request"]["method"]
        path = urlsplit(entry["request"]["url"]).path
        template = next((t for pattern, t in patterns if pattern.fullmatch(path)), None)
        documented = template is not None and method.lower() in paths[template]
        route = f"{method} {template}" if documented else "other methods (405; OPTIONS 200)"
        routes.setdefault(route, Counter())[entry["response"]["status"]] += 1
    return routes


def alice_jobs(name: str) -> list[str]:
    listed = subprocess.run(
        ["squeue", "--noheader", f"--user={SLURM_USER}", f"--name={name}", "--format=%i"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def cancel_run_jobs(name: str) -> int:
    """Cancel every job of alice this run started (they all carry its name); how many."""
    jobs = alice_jobs(name)
    if jobs:
        subprocess.run(["scancel", f"--user={SLURM_USER}", f"--name={name}"], check=False)
    return len(jobs)


def commands_run(command_log: Path) -> Counter[str]:
    if not command_log.exists():
        return Counter()
    lines = command_log.read_text().splitlines()
    commands = (json.loads(line) for line in lines)
    return Counter(" ".join(argv[:2]) if argv[0] == "scontrol" else argv[0] for argv in commands)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--max-examples", type=int, default=60, help="per route and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--min-requests", type=int, default=1000)
    args = parser.parse_args()

    if subprocess.run(["scontrol", "ping"], capture_output=True, check=False).returncode:
        print("the local Slurm cluster is not up: run `make cluster`", file=sys.stderr)
        return 2
    run = secrets.token_hex(4)
    job_name = f"fuzz-kernel-{run}"
    workdir = Path(tempfile.mkdtemp(prefix=f"hpc-fuzz-{run}-"))
    started = time.monotonic()
    try:
        with jupyter_server(workdir, job_name) as (url, token):
            status = run_schemathesis(url, token, workdir, args)
    finally:
        # The server cancels its kernels' jobs when it stops; this catches any it could not.
        time.sleep(2)
        left_over = cancel_run_jobs(job_name)
    routes = requests_per_route(workdir / "requests.har")
    total = sum(sum(counter.values()) for counter in routes.values())
    commands = commands_run(workdir / "commands.log")

    print(
        f"\nschemathesis exit status {status}, {time.monotonic() - started:.0f} s, seed {args.seed}"
    )
    print("\n| route | requests | status codes |\n| --- | ---: | --- |")
    for route, counter in sorted(routes.items(), key=lambda item: item[0].split()[::-1]):
        codes = ", ".join(f"{code} x {count}" for code, count in sorted(counter.items()))
        print(f"| `{route}` | {sum(counter.values())} | {codes} |")
    print(f"| **all** | **{total}** | |")
    print("\nSlurm commands the server ran:", dict(commands.most_common()))
    print(f"kernel jobs submitted (sbatch): {commands['sbatch']}")
    print(f"... named {job_name}, still queued after the server stopped, cancelled: {left_over}")
    print(f"work folder (server.log, commands.log, requests.har): {workdir}")
    shutil.rmtree(workdir / "root", ignore_errors=True)
    return 0 if status == 0 and total >= args.min_requests and left_over == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
