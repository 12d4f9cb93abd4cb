"""Capture Slurm's real outputs for the parser unit tests (re-run for another Slurm release).

Submits a known set of jobs as alice on the local cluster, runs every query the backend
makes with the backend's own arguments, stores the raw outputs under
jupyterlab_hpc/tests/captured/slurm-<release>/, and cancels the jobs again.

For shapes the shared cluster does not have, it adds some for a few seconds and removes them
again: a maintenance and an account reservation (starting hours from now: only jobs asking
for more time than that wait meanwhile), two hidden partitions with access lists (hidden:
nobody's views change), and an account tree with every kind of limit for a user that has no
Unix account (nobody's associations change). Under a minute in all: it waits for jobs to
finish and for the backfill scheduler's start estimate.

    .venv/bin/python cluster/capture_outputs.py

With HPC_CLUSTER_DIR naming another release's cluster (``slurm_cluster.py up --release``), it
captures that release's outputs, running every command in the release's root.

    .venv/bin/python cluster/capture_outputs.py --only site-rules

captures only what the site service reads for everyone (test_site_rules.py), submitting no
job: ``scontrol show config`` under ``PrivateData=jobs,usage`` (set with ``slurm_cluster.py
private-data`` for the second or two of the capture, then unset again, whatever happens), the
users' roles, every association and every default account (as root).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jupyterlab_hpc.slurm.commands.cluster_info import scontrol_config_argv
from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.job_detail import (
    parse_squeue_jobs,
    sacct_job_argv,
    squeue_job_argv,
)
from jupyterlab_hpc.slurm.commands.partitions import scontrol_partitions_argv, sinfo_nodes_argv
from jupyterlab_hpc.slurm.commands.quotas import (
    all_assoc_mgr_argv,
    all_default_accounts_argv,
    assoc_mgr_argv,
    sacctmgr_default_account_argv,
)
from jupyterlab_hpc.slurm.commands.reservations import scontrol_reservations_argv
from jupyterlab_hpc.slurm.commands.site_rules import roles_argv
from jupyterlab_hpc.slurm.commands.squeue import squeue_argv
from jupyterlab_hpc.slurm.runner import command_environment

ALICE = ["runuser", "-u", "alice", "--"]
CAPTURED = Path(__file__).resolve().parent.parent / "jupyterlab_hpc" / "tests" / "captured"
CLUSTER_DIR = Path(os.environ.get("HPC_CLUSTER_DIR", "/var/tmp/jupyterlab-hpc-cluster"))
CLUSTER_TOOL = Path(__file__).resolve().parent / "slurm_cluster.py"
# What runs a command with the cluster's own Slurm: nothing for the host's, a chroot otherwise.
PREFIX = json.loads((CLUSTER_DIR / "cluster.json").read_text()).get("command_prefix", [])
# The separator of the captured squeue outputs (the tests read them with it); the backend makes
# a fresh one for every query (fields.query_separator). sacct's output has the same shape
# whatever its delimiter: it keeps SEPARATOR, which every release's captures have.
CAPTURE_SEPARATOR = SEPARATOR + "captured" * 2

# (description, sbatch arguments): one job of each shape the parsers must understand.
JOB_SHAPES = (
    ("running", ["--partition=debug", "--time=5", "--job-name=running"]),
    ("held", ["--partition=compute", "--time=60", "--hold", "--job-name=held"]),
    ("gpu", ["--partition=compute", "--time=10", "--gres=gpu:1", "--job-name=gpu job"]),
    ("array", ["--partition=compute", "--time=5", "--array=1-3", "--job-name=array"]),
    ("two-nodes", ["--partition=compute", "--time=5", "--nodes=2", "--job-name=two|nodes"]),
    ("pending-array", ["--partition=debug", "--time=5", "--array=1-20%1", "--job-name=throttled"]),
)

# (name, options) of the reservations and hidden partitions the capture adds for a while.
RESERVATIONS = (
    (
        "capture_maint",
        ["StartTime=now+2hours", "Duration=60", "Nodes=ALL", "Users=root",
         "Flags=MAINT,IGNORE_JOBS"],
    ),
    (
        "capture_proj1",
        ["StartTime=now+5hours", "Duration=30", "Nodes=n[1-2]", "PartitionName=compute",
         "Accounts=proj1"],
    ),
)  # fmt: skip
HIDDEN_PARTITIONS = (
    (
        "capture_allow",
        ["Nodes=n1", "Hidden=YES", "State=DOWN", "AllowAccounts=proj2", "AllowGroups=alice,bob",
         "AllowQos=normal,high"],
    ),
    (
        "capture_deny",
        ["Nodes=n3,n4", "Hidden=YES", "State=INACTIVE", "MaxTime=UNLIMITED", "DenyAccounts=proj1",
         "DenyQos=long"],
    ),
)  # fmt: skip
# A user without a Unix account in a two-level account tree: every kind of association limit.
LIMITS_USER = "capture_user"
LIMITS_ACCOUNTS = (
    ("capture_parent", ["GrpTRESMins=gres/gpu=600", "GrpJobs=8"]),
    (
        "capture_child",
        ["parent=capture_parent", "GrpTRES=cpu=4,mem=4000,gres/gpu=2", "GrpSubmitJobs=20",
         "GrpTRESRunMins=cpu=1000", "GrpWall=600", "MaxWall=60"],
    ),
)  # fmt: skip
LIMITS_USER_ASSOCIATIONS = (
    ["MaxJobs=3", "MaxSubmitJobs=5", "MaxTRES=cpu=2", "MaxTRESPerNode=cpu=2",
     "MaxTRESMins=cpu=120", "GrpTRESMins=cpu=300"],
    ["partition=debug", "MaxJobs=1"],
)  # fmt: skip

# The batch script of the job-detail captures: CPU for 3 s, 300 MB touched, then a sleep and
# the exit code given as arguments.
DETAIL_SCRIPT = """#!/bin/sh
python3 -c "
import time
memory = bytearray(300 * 1024 * 1024)
memory[::4096] = bytes(len(memory[::4096]))
start = time.time()
while time.time() - start < 3:
    pass
"
sleep "$1"
exit "$2"
"""
# (shape, sbatch arguments, script arguments) for `scontrol show job` and `sacct`; all before
# JOB_SHAPES, in proj2 where possible, so the squeue shapes see the same cluster as before.
DETAIL_SHAPES = (
    ("finished", ["--partition=compute", "--account=proj2", "--mem=1000",
                  "--acctg-freq=task=1", "--job-name=finished"], ["1", "0"]),
    ("failed", ["--partition=debug", "--account=proj2", "--job-name=failed"], ["0", "3"]),
    ("running", ["--partition=debug", "--account=proj2", "--time=10", "--job-name=detail job",
                 "--comment=a comment with spaces B=c",
                 "--output=%x-%j-%N.out", "--error=%u-%A_%a-%n-%t-%s-%%.err"], ["300", "0"]),
    ("begin", ["--partition=debug", "--account=proj2", "--begin=now+1hour", "--job-name=later"],
     ["300", "0"]),
    ("maintenance", ["--partition=compute", "--account=proj1", "--time=3:00:00",
                     "--job-name=too long for maintenance"], ["300", "0"]),
)  # fmt: skip
# Needs both debug nodes whole while "running" holds one CPU there: pending on Resources.
RESOURCES_SHAPE = [
    "--partition=debug", "--account=proj1", "--nodes=2", "--ntasks-per-node=2", "--time=5",
    "--job-name=whole debug",
]  # fmt: skip


def run(argv: list[str]) -> str:
    env = command_environment(os.environ)
    argv = [*PREFIX, *argv]
    return subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout


def slurm_release() -> str:
    return run(["sinfo", "--version"]).split()[1].rsplit(".", 1)[0]  # "slurm 22.05.8" -> 22.05


def quietly(argv: list[str]) -> None:
    """Run a clean-up command whose failure (nothing to clean) does not matter."""
    env = command_environment(os.environ)
    subprocess.run([*PREFIX, *argv], capture_output=True, check=False, env=env)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def job_state(job_id: str) -> str:
    output = run(["squeue", "--noheader", "--states=all", "--jobs", job_id, "--format=%T"])
    return output.strip() or "GONE"


def remove_cluster_shapes() -> None:
    for name, _ in RESERVATIONS:
        quietly(["scontrol", "delete", f"ReservationName={name}"])
    for name, _ in HIDDEN_PARTITIONS:
        quietly(["scontrol", "delete", f"PartitionName={name}"])
    quietly(["sacctmgr", "-i", "delete", "user", f"name={LIMITS_USER}"])
    for name, _ in reversed(LIMITS_ACCOUNTS):
        quietly(["sacctmgr", "-i", "delete", "account", f"name={name}"])


def add_cluster_shapes() -> None:
    for name, options in RESERVATIONS:
        run(["scontrol", "create", "reservation", f"ReservationName={name}", *options])
    for name, options in HIDDEN_PARTITIONS:
        run(["scontrol", "create", f"PartitionName={name}", *options])
    for name, options in LIMITS_ACCOUNTS:
        run(["sacctmgr", "-i", "add", "account", name, "Description=capture", *options])
    for options in LIMITS_USER_ASSOCIATIONS:
        add = ["sacctmgr", "-i", "add", "user", LIMITS_USER, "account=capture_child"]
        run([*add, *options])


def capture_job_details(target: Path, work_dir: Path, submitted: list[str]) -> None:
    """squeue, sacct and scontrol (the generic parser's tests read it) for jobs in each state;
    their ids go to ``submitted``."""
    script = work_dir / "detail.sh"
    script.write_text(DETAIL_SCRIPT)
    script.chmod(0o755)
    sbatch = [*ALICE, "sbatch", "--parsable", f"--chdir={work_dir}", "--output=/dev/null"]
    shapes = [(shape, [*options, str(script), *args]) for shape, options, args in DETAIL_SHAPES]
    shapes.append(("resources", [*RESOURCES_SHAPE, "--wrap=sleep 300"]))
    ids = {}
    for shape, args in shapes:
        ids[shape] = run([*sbatch, *args]).strip()
        submitted.append(ids[shape])
    finished = ("finished", "failed")
    wait_for(lambda: all(job_state(ids[s]) in {"COMPLETED", "FAILED"} for s in finished), 60)

    def squeue(job_id: str) -> str:
        return run([*ALICE, *squeue_job_argv(job_id, CAPTURE_SEPARATOR)])

    def estimated() -> bool:
        (detail,) = parse_squeue_jobs(squeue(ids["resources"]), CAPTURE_SEPARATOR)
        return detail.estimated_start is not None

    if not wait_for(estimated, 70):  # the backfill scheduler runs every 30 s
        print("no start estimate for the Resources job; captured without one")
    for shape, job_id in ids.items():
        (target / f"squeue_job_{shape}.txt").write_text(squeue(job_id))
        scontrol = run([*ALICE, "scontrol", "show", "job", job_id])
        (target / f"scontrol_job_{shape}.txt").write_text(scontrol)
    for shape in (*finished, "running"):
        sacct = run([*ALICE, *sacct_job_argv(ids[shape], SEPARATOR)])
        (target / f"sacct_job_{shape}.txt").write_text(sacct)


def capture_cluster_views(target: Path) -> None:
    """Partitions, quotas and reservations while the JOB_SHAPES jobs run."""
    views = {
        "scontrol_config.txt": [*ALICE, *scontrol_config_argv()],
        "scontrol_partitions.txt": [*ALICE, *scontrol_partitions_argv()],
        "sinfo_nodes.txt": [*ALICE, *sinfo_nodes_argv()],
        "scontrol_partitions_hidden.txt": scontrol_partitions_argv(include_hidden=True),
        "sinfo_nodes_hidden.txt": sinfo_nodes_argv(include_hidden=True),
        "reservations.txt": [*ALICE, *scontrol_reservations_argv()],
        "sacctmgr_default_account.txt": [*ALICE, *sacctmgr_default_account_argv("alice")],
        "assoc_mgr.txt": [*ALICE, *assoc_mgr_argv("alice")],
        "assoc_mgr_limits.txt": assoc_mgr_argv(LIMITS_USER),
    }
    for name, argv in views.items():
        (target / name).write_text(run(argv))


def set_private_data(flags: str) -> None:
    """slurm.conf's PrivateData on the running cluster (``none`` unsets it)."""
    release = json.loads((CLUSTER_DIR / "cluster.json").read_text())["release"]
    argv = ["python3", str(CLUSTER_TOOL), "private-data", flags, "--release", release]
    subprocess.run(argv, capture_output=True, text=True, check=True)


def capture_site_rules(target: Path) -> None:
    """What the site service reads for everyone: PrivateData as ``scontrol show config``
    prints it while set (for as short as possible: others test on this cluster), the users'
    roles, every association and every default account. Submits no job."""
    views = {
        "site_roles.txt": roles_argv(),
        "site_assoc_mgr_all.txt": all_assoc_mgr_argv(),
        "site_default_accounts.txt": all_default_accounts_argv(),
    }
    for name, argv in views.items():
        (target / name).write_text(run(argv))
    try:
        set_private_data("jobs,usage")
        private = run([*ALICE, *scontrol_config_argv()])
    finally:
        set_private_data("none")
    (target / "scontrol_config_private_data.txt").write_text(private)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--only",
        choices=["site-rules"],
        help="capture only the site service's views (no job submitted)",
    )
    args = parser.parse_args()
    target = CAPTURED / f"slurm-{slurm_release()}"
    target.mkdir(parents=True, exist_ok=True)
    if args.only == "site-rules":
        capture_site_rules(target)
        print(f"captured the site service's views into {target}")
        return
    remove_cluster_shapes()
    no_reservations = run([*ALICE, *scontrol_reservations_argv()])
    if no_reservations.startswith("No reservations"):
        (target / "reservations_none.txt").write_text(no_reservations)
    else:
        print("someone else's reservation exists; reservations_none.txt not captured")
    submitted: list[str] = []
    with tempfile.TemporaryDirectory(prefix="jupyterlab-hpc-capture-") as work_dir:
        shutil.chown(work_dir, "alice", "alice")  # alice's jobs write their output there
        try:
            add_cluster_shapes()
            capture_job_details(target, Path(work_dir), submitted)
            quietly(["scancel", *submitted])
            ended = {"COMPLETED", "FAILED", "CANCELLED", "GONE"}
            wait_for(lambda: all(job_state(job_id) in ended for job_id in submitted), 30)
            submitted += [
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
            time.sleep(2)  # let the scheduler start what can start
            (target / "squeue_listing.txt").write_text(
                run([*ALICE, *squeue_argv(CAPTURE_SEPARATOR, mine=True)])
            )
            capture_cluster_views(target)
        finally:
            quietly(["scancel", *submitted])
            remove_cluster_shapes()
    capture_site_rules(target)  # without the shapes: only the cluster's own users and accounts
    print(f"captured into {target}")


if __name__ == "__main__":
    main()
