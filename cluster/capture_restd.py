"""Capture slurmrestd's real answers for the slurmrestd backend's unit tests.

Beside capture_outputs.py (the commands' outputs): submits a few jobs as alice (and one as
bob), asks slurmrestd what the backend asks, in the newest API version both slurmrestd and
the backend know, and stores the answers under
jupyterlab_hpc/tests/captured/slurm-<release>/restd_<version>_<what>.json. Job lists keep
only the jobs submitted here, so other users of the cluster leave no trace. For the
reservation shape it adds a maintenance reservation starting hours from now for a few
seconds. About 20 s; every job is cancelled again.

    HPC_CLUSTER_DIR=/var/tmp/jupyterlab-hpc-cluster-24.11 .venv/bin/python cluster/capture_restd.py
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jupyterlab_hpc.slurm.restd.backend import newest_supported_version
from jupyterlab_hpc.slurm.restd.client import token_from_output
from jupyterlab_hpc.slurm.restd.dialects import dialect
from jupyterlab_hpc.slurm.restd.submit import job_properties
from jupyterlab_hpc.slurm.runner import command_environment

CAPTURED = Path(__file__).resolve().parent.parent / "jupyterlab_hpc" / "tests" / "captured"
CLUSTER_DIR = Path(os.environ.get("HPC_CLUSTER_DIR", "/var/tmp/jupyterlab-hpc-cluster"))
FACTS = json.loads((CLUSTER_DIR / "cluster.json").read_text())
# What runs a command with the cluster's own Slurm: nothing for the host's, a chroot otherwise.
PREFIX: list[str] = FACTS.get("command_prefix", [])
USER = "alice"

# (shape, user, sbatch arguments): the jobs the job list and job answers show.
JOB_SHAPES = (
    ("later", USER, ["--partition=debug", "--begin=now+1hour", "--output=/tmp/capture-%j-%x.out"]),
    ("held_array", USER, ["--partition=compute", "--hold", "--array=1-3%1", "--gres=gpu:1"]),
    ("failed", USER, ["--partition=debug", "--time=1", "--output=/dev/null", "--wrap=exit 3"]),
    ("running", USER, ["--partition=debug", "--time=5", "--job-name=running job"]),
    ("bobs", "bob", ["--partition=debug", "--begin=now+1hour"]),
)  # fmt: skip
JOB_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "USER": USER}
MAINTENANCE = [
    "ReservationName=capture_restd_maint", "StartTime=now+2hours", "Duration=60",
    "Nodes=ALL", "Users=root", "Flags=MAINT,IGNORE_JOBS",
]  # fmt: skip


def run(argv: list[str], *, check: bool = True) -> str:
    env = command_environment(os.environ)
    done = subprocess.run([*PREFIX, *argv], capture_output=True, text=True, check=check, env=env)
    return done.stdout


def as_user(user: str, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv]


class Rest:
    """Plain requests as alice; the answer whatever its status, refusals included."""

    def __init__(self) -> None:
        parts = urlsplit(FACTS["rest_url"])
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        token_argv = as_user(USER, ["scontrol", "token", f"username={USER}", "lifespan=600"])
        self.token = token_from_output(run(token_argv))

    def ask(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"X-SLURM-USER-NAME": USER, "X-SLURM-USER-TOKEN": self.token}
        payload = json.dumps(body).encode() if body is not None else None
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, payload, headers)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()


def submit(user: str, args: list[str]) -> str:
    wrap = [] if any(arg.startswith("--wrap") for arg in args) else ["--wrap=sleep 300"]
    sbatch = ["sbatch", "--parsable", "--chdir=/tmp", "--job-name=capture", *args, *wrap]
    return run(as_user(user, sbatch)).strip()


def only_jobs(answer: dict[str, Any], job_ids: set[str]) -> dict[str, Any]:
    jobs = [job for job in answer.get("jobs") or [] if str(job.get("job_id")) in job_ids]
    return {**answer, "jobs": jobs}


def wait_until_failed(rest: Rest, base: str, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = rest.ask("GET", f"{base}/job/{job_id}").get("jobs") or [{}]
        if "FAILED" in jobs[0].get("job_state", []):
            return
        time.sleep(1)
    print(f"job {job_id} did not fail within 60 s; captured as it was")


def main() -> None:
    release = FACTS["release"]
    target = CAPTURED / f"slurm-{release}"
    target.mkdir(parents=True, exist_ok=True)
    rest = Rest()
    offered = rest.ask("GET", "/openapi/v3")
    version = newest_supported_version(offered)
    base, base_db = f"/slurm/{version}", f"/slurmdb/{version}"

    def store(what: str, answer: Any) -> None:
        path = target / f"restd_{version}_{what}.json"
        path.write_text(json.dumps(answer, indent=1, sort_keys=True) + "\n")

    paths: dict[str, dict[str, Any]] = {
        "paths": {path: {} for path in sorted(offered.get("paths", {}))}
    }
    (target / "restd_openapi_paths.json").write_text(json.dumps(paths, indent=1) + "\n")
    ids = {shape: submit(user, args) for shape, user, args in JOB_SHAPES}
    try:
        run(["scontrol", "create", "reservation", *MAINTENANCE])
        wait_until_failed(rest, base, ids["failed"])
        time.sleep(1)  # the running job's node has reported it running
        store("jobs", only_jobs(rest.ask("GET", f"{base}/jobs"), set(ids.values())))
        for shape in ("failed", "held_array", "later"):
            store(f"job_{shape}", rest.ask("GET", f"{base}/job/{ids[shape]}"))
        store("ping", rest.ask("GET", f"{base}/ping"))
        store("partitions", rest.ask("GET", f"{base}/partitions"))
        store("nodes", rest.ask("GET", f"{base}/nodes"))
        store("reservations", rest.ask("GET", f"{base}/reservations"))
        store("associations", rest.ask("GET", f"{base_db}/associations?user={USER}"))
        store("clusters", rest.ask("GET", f"{base_db}/clusters"))
        store("cancel_denied", rest.ask("DELETE", f"{base}/job/{ids['bobs']}"))
        script = "#!/bin/sh\n#SBATCH --account=nosuch\nhostname\n"
        job = job_properties(
            script, script_path="/tmp/refused.sh", work_dir="/tmp", environment=JOB_ENVIRONMENT
        )
        refused = dialect(version).submission(script, job)
        store("submit_refused", rest.ask("POST", f"{base}/job/submit", refused))
    finally:
        run(["scancel", *ids.values()], check=False)
        run(["scontrol", "delete", "ReservationName=capture_restd_maint"], check=False)
    print(f"captured slurmrestd {version} into {target}")


if __name__ == "__main__":
    main()
