"""The generic ``scontrol show`` parser, on captured output and on 22.05's one-line form."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.scontrol_text import (
    name_list,
    parse_fields,
    parse_records,
    split_name_id,
)

CAPTURED = Path(__file__).parent / "captured"

# `scontrol -o show node n1` on the 22.05 cluster, with the Reason a node has when slurmd stops.
ONE_LINE_NODE = (
    "NodeName=n1 Arch=x86_64 CoresPerSocket=1  CPUAlloc=0 CPUEfctv=2 CPUTot=2 CPULoad=1.07 "
    "Gres=(null) NodeAddr=10.201.0.11 NodeHostName=n1 Version=22.05.8 "
    "OS=Linux 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0  RealMemory=2000 AllocMem=0 "
    "State=DOWN+NOT_RESPONDING ThreadsPerCore=1 Partitions=debug,compute  "
    "CfgTRES=cpu=2,mem=2000M,billing=2 AllocTRES= CapWatts=n/a "
    "Reason=Not responding [slurm@2026-11-22T03:00:00]"
)


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def test_a_one_line_record_keeps_values_with_spaces_and_equals_signs() -> None:
    (node,) = parse_records(ONE_LINE_NODE)
    assert node["OS"] == "Linux 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0"
    assert node["Reason"] == "Not responding [slurm@2026-11-22T03:00:00]"
    assert node["CfgTRES"] == "cpu=2,mem=2000M,billing=2"
    assert node["AllocTRES"] == ""
    assert node["Partitions"] == "debug,compute"


def test_keys_with_slashes_and_colons_are_keys() -> None:
    fields = parse_fields("   NumCPUs=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* AllocNode:Sid=login:42")
    assert fields == {
        "NumCPUs": "1",
        "CPUs/Task": "1",
        "ReqB:S:C:T": "0:0:*:*",
        "AllocNode:Sid": "login:42",
    }


def test_a_free_text_field_of_the_default_form_runs_to_the_end_of_its_line(
    release: Path,
) -> None:
    # The capture's comment is "a comment with spaces B=c": a "Key=" inside a value.
    text = (release / "scontrol_job_running.txt").read_text()
    # SubmitLine (newer releases) repeats the comment in the sbatch command line.
    (job,) = parse_records(text, free_text={"Comment", "JobName", "StdOut", "SubmitLine"})
    assert job["Comment"] == "a comment with spaces B=c"
    assert "B" not in job
    assert job["JobName"] == "detail job"
    # 26.05 fills in %N (the node) itself; earlier releases leave it to slurmd.
    assert job["StdOut"].endswith(("-%N.out", f"-{job['BatchHost']}.out"))
    assert job["JobState"] == "RUNNING"


def test_without_free_text_a_key_inside_a_value_splits_it(release: Path) -> None:
    lines = (release / "scontrol_job_running.txt").read_text().splitlines()
    comment = next(line for line in lines if line.strip().startswith("Comment="))
    assert parse_fields(comment) == {"Comment": "a comment with spaces", "B": "c"}


def test_headers_and_blank_lines_end_records_and_are_skipped(release: Path) -> None:
    records = parse_records((release / "assoc_mgr.txt").read_text())
    assert [record["Account"] for record in records] == [
        "root", "capture_parent", "capture_child", "proj1", "proj1", "proj2", "proj2"
    ]  # fmt: skip
    assert all("GrpTRESMins" in record and "MaxWallPJ" in record for record in records)


def test_a_message_instead_of_records_is_no_records(release: Path) -> None:
    if not (release / "reservations_none.txt").exists():
        pytest.skip("captured while a reservation existed")
    assert parse_records((release / "reservations_none.txt").read_text()) == []


def test_names_lose_the_numeric_id_scontrol_adds() -> None:
    assert split_name_id("alice(1001)") == ("alice", 1001)
    assert split_name_id("root(1)") == ("root", 1)
    assert split_name_id("") == ("", None)
    assert split_name_id("proj1") == ("proj1", None)


def test_name_lists_treat_null_as_empty() -> None:
    assert name_list("proj1,proj2") == ("proj1", "proj2")
    assert name_list("(null)") == ()
    assert name_list("") == ()
