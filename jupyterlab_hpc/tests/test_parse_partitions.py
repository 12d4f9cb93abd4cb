"""Partitions from scontrol and sinfo output captured on the real cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.partitions import (
    is_allowed,
    parse_partitions,
    scontrol_partitions_argv,
    sinfo_nodes_argv,
)
from jupyterlab_hpc.slurm.notation import node_state
from jupyterlab_hpc.slurm.records import Partition

CAPTURED = Path(__file__).parent / "captured"


def _partitions(release: Path, suffix: str) -> dict[str, Partition]:
    partitions = parse_partitions(
        (release / f"scontrol_partitions{suffix}.txt").read_text(),
        (release / f"sinfo_nodes{suffix}.txt").read_text(),
    )
    return {partition.name: partition for partition in partitions}


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


@pytest.fixture
def visible(release: Path) -> dict[str, Partition]:
    """What alice sees while the capture's jobs run."""
    return _partitions(release, "")


@pytest.fixture
def hidden(release: Path) -> dict[str, Partition]:
    """What root sees with --all, including two hidden partitions with access lists."""
    return _partitions(release, "_hidden")


def test_a_user_sees_the_configured_partitions_with_their_limits(
    visible: dict[str, Partition],
) -> None:
    assert list(visible) == ["debug", "compute"]
    debug, compute = visible["debug"], visible["compute"]
    assert (debug.state, debug.default, debug.max_time, debug.default_time) == (
        "UP",
        True,
        1800,
        300,
    )
    assert (compute.default, compute.max_time, compute.default_time) == (False, 86400, 3600)


def test_totals_count_every_node_of_the_partition(visible: dict[str, Partition]) -> None:
    debug, compute = visible["debug"], visible["compute"]
    assert (debug.nodes.total, debug.cpus.total, debug.gpus.total, debug.memory_mb) == (
        2,
        4,
        0,
        4000,
    )
    assert (compute.nodes.total, compute.cpus.total, compute.gpus.total, compute.memory_mb) == (
        4,
        8,
        4,
        8000,
    )


def test_each_node_counts_in_exactly_one_state(visible: dict[str, Partition]) -> None:
    for partition in visible.values():
        nodes = partition.nodes
        states = (
            nodes.idle,
            nodes.mixed,
            nodes.allocated,
            nodes.down,
            nodes.drained,
            nodes.maintenance,
        )
        assert sum(states) == nodes.total


def test_running_jobs_take_cpus_and_gpus_from_the_idle_counts(
    visible: dict[str, Partition],
) -> None:
    compute = visible["compute"]
    assert compute.cpus.idle < compute.cpus.total
    assert compute.nodes.allocated + compute.nodes.mixed >= 1
    assert compute.gpus.idle <= 3  # the capture's "gpu job" holds one of n3's GPUs


def test_a_node_in_two_partitions_counts_in_both(visible: dict[str, Partition]) -> None:
    debug, compute = visible["debug"], visible["compute"]
    busy_debug = debug.nodes.allocated + debug.nodes.mixed
    assert busy_debug <= compute.nodes.allocated + compute.nodes.mixed
    assert debug.cpus.total - debug.cpus.idle <= compute.cpus.total - compute.cpus.idle


def test_the_rest_api_shape_has_exactly_the_contract_fields(
    visible: dict[str, Partition],
) -> None:
    shape = visible["debug"].to_json(allowed=True)
    assert set(shape) == {
        "name",
        "state",
        "default",
        "max_time",
        "default_time",
        "nodes",
        "cpus",
        "gpus",
        "memory_mb",
        "allowed",
    }
    assert set(shape["nodes"]) == {
        "total",
        "idle",
        "mixed",
        "allocated",
        "down",
        "drained",
        "maintenance",
    }


def test_open_partitions_allow_every_account_and_group(visible: dict[str, Partition]) -> None:
    assert is_allowed(visible["debug"], ["proj1"], ["alice"])
    assert is_allowed(visible["compute"], ["proj2"], [], user_qos=["long"])


def test_allow_lists_admit_only_their_accounts_groups_and_qos(
    hidden: dict[str, Partition],
) -> None:
    allow = hidden["capture_allow"]
    assert (allow.state, allow.max_time, allow.default_time) == ("DOWN", None, None)
    assert (allow.allow_accounts, allow.allow_groups, allow.allow_qos) == (
        ("proj2",),
        ("alice", "bob"),
        ("normal", "high"),
    )
    assert not is_allowed(allow, ["proj1"], ["alice"])
    assert is_allowed(allow, ["proj1", "proj2"], ["alice"])
    assert not is_allowed(allow, ["proj2"], ["carol"])
    assert not is_allowed(allow, ["proj2"], ["alice"], user_qos=["long"])
    assert is_allowed(allow, ["proj2"], ["bob"], user_qos=["long", "normal"])


def test_deny_lists_exclude_their_accounts_and_qos(hidden: dict[str, Partition]) -> None:
    deny = hidden["capture_deny"]
    assert deny.state == "INACTIVE"
    assert (deny.allow_accounts, deny.deny_accounts, deny.deny_qos) == (None, ("proj1",), ("long",))
    assert not is_allowed(deny, ["proj1"], ["alice"])
    assert is_allowed(deny, ["proj1", "proj2"], ["alice"])
    assert not is_allowed(deny, ["proj2"], ["alice"], user_qos=["long"])
    assert (deny.nodes.total, deny.gpus.total) == (2, 4)


def test_hidden_partitions_are_only_in_the_all_view(
    visible: dict[str, Partition], hidden: dict[str, Partition]
) -> None:
    assert "capture_allow" not in visible
    assert list(hidden) == ["debug", "compute", "capture_allow", "capture_deny"]


@pytest.mark.parametrize(
    ("state", "bucket"),
    [
        ("idle", "idle"),
        ("idle+planned", "idle"),
        ("idle+reserved", "idle"),
        ("idle~", "idle"),
        ("idle+cloud+powered_down", "idle"),
        ("mixed", "mixed"),
        ("allocated+planned", "allocated"),
        ("allocated+completing", "allocated"),
        ("idle+drain", "drained"),
        ("drained", "drained"),
        ("mixed+drain", "drained"),
        ("draining", "drained"),
        ("allocated+fail", "drained"),
        ("down*", "down"),
        ("down+not_responding", "down"),
        ("idle*", "down"),
        ("idle+not_responding", "down"),
        ("down+drain", "down"),
        ("future", "down"),
        ("unknown", "down"),
        ("idle+maintenance", "maintenance"),
        ("maint", "maintenance"),
        ("idle$", "maintenance"),
        ("down+maintenance", "maintenance"),
    ],
)
def test_node_states_land_in_the_bucket_a_user_expects(state: str, bucket: str) -> None:
    assert node_state(state) == bucket


def test_malformed_sinfo_lines_are_skipped() -> None:
    partitions = parse_partitions("PartitionName=p\n   State=UP\n", "p\x1fn1\x1fidle\n" + SEPARATOR)
    (partition,) = partitions
    assert partition.nodes.total == 0


def test_both_queries_see_the_same_partitions() -> None:
    assert "--all" in scontrol_partitions_argv(include_hidden=True)
    assert "--all" in sinfo_nodes_argv(include_hidden=True)
    assert "--all" not in [*scontrol_partitions_argv(), *sinfo_nodes_argv()]
