"""Partitions: their limits and access lists (scontrol) and their nodes' state (sinfo).

Two queries, each from the source that knows best. ``scontrol show partition`` gives a
partition's state, whether it is the default, its time limits and who may use it (sinfo has no
AllowAccounts or AllowQos). ``sinfo --Node`` gives one line per node and partition with the
node's complete state, CPU counts and GPUs; a node in two partitions counts in both.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.scontrol_text import name_list, parse_records
from jupyterlab_hpc.slurm.notation import gpu_count, int_or_none, node_state, time_seconds
from jupyterlab_hpc.slurm.records import Capacity, NodeCounts, Partition

# (our field, sinfo --Format field) in output order. StateComplete names every state flag
# ("idle+drain", "mixed+maintenance"); the short state forms hide some behind symbols.
_NODE_FIELDS = (
    ("partition", "PartitionName"),
    ("node", "NodeList"),
    ("state", "StateComplete"),
    ("cpus", "CPUsState"),
    ("gres", "Gres"),
    ("gres_used", "GresUsed"),
    ("memory", "Memory"),
)
NODE_FORMAT = ",".join(f"{field}:{SEPARATOR}" for _, field in _NODE_FIELDS)

_CPUS_STATE = re.compile(r"^(?P<a>\d+)/(?P<i>\d+)/(?P<o>\d+)/(?P<t>\d+)$")


def scontrol_partitions_argv(*, include_hidden: bool = False) -> list[str]:
    """Partitions as the user sees them; ``include_hidden`` adds the hidden ones (``--all``)."""
    return ["scontrol", *(["--all"] if include_hidden else []), "show", "partition"]


def sinfo_nodes_argv(*, include_hidden: bool = False) -> list[str]:
    """One line per node and partition; must see the same partitions as the scontrol query."""
    argv = ["sinfo", "--noheader", "--Node", "--Format", NODE_FORMAT]
    return [*argv, "--all"] if include_hidden else argv


def parse_partitions(partitions_output: str, nodes_output: str) -> list[Partition]:
    """Partitions from ``scontrol show partition``, counted over ``sinfo --Node`` lines."""
    nodes_by_partition: dict[str, list[dict[str, str]]] = {}
    for node in _node_lines(nodes_output):
        nodes_by_partition.setdefault(node["partition"], []).append(node)
    return [
        _partition(record, nodes_by_partition.get(record["PartitionName"], []))
        for record in parse_records(partitions_output)
        if "PartitionName" in record
    ]


def is_allowed(
    partition: Partition,
    user_accounts: Collection[str],
    user_groups: Collection[str],
    user_qos: Collection[str] | None = None,
) -> bool:
    """Whether a user with these accounts, Unix groups (and QOS, if known) may submit there.

    Mirrors slurmctld's checks: RootOnly, AllowGroups, then at least one of the user's accounts
    allowed and not denied, and, when ``user_qos`` is given, one of those QOS likewise.
    """
    if partition.root_only:
        return False
    if partition.allow_groups is not None and not set(partition.allow_groups) & set(user_groups):
        return False
    if not _any_permitted(user_accounts, partition.allow_accounts, partition.deny_accounts):
        return False
    return user_qos is None or _any_permitted(user_qos, partition.allow_qos, partition.deny_qos)


def _node_lines(output: str) -> Iterable[dict[str, str]]:
    names = [name for name, _ in _NODE_FIELDS]
    for line in output.splitlines():
        values = line.split(SEPARATOR)
        if len(values) != len(names) + 1 or values.pop():
            continue
        yield dict(zip(names, (value.strip() for value in values), strict=True))


def _partition(record: dict[str, str], nodes: list[dict[str, str]]) -> Partition:
    counts = {"total": len(nodes)}
    cpus_total = cpus_idle = gpus_total = gpus_idle = memory = 0
    for node in nodes:
        bucket = node_state(node["state"])
        counts[bucket] = counts.get(bucket, 0) + 1
        cpus = _CPUS_STATE.match(node["cpus"])
        if cpus is not None:
            cpus_total += int(cpus["t"])
            cpus_idle += int(cpus["i"])
        gpus = gpu_count(node["gres"]) or 0
        gpus_total += gpus
        if bucket in {"idle", "mixed", "allocated"}:
            gpus_idle += max(gpus - (gpu_count(node["gres_used"]) or 0), 0)
        memory += int_or_none(node["memory"]) or 0
    return Partition(
        name=record["PartitionName"],
        state=record.get("State", "UNKNOWN"),
        default=record.get("Default") == "YES",
        max_time=time_seconds(record.get("MaxTime", "")),
        default_time=time_seconds(record.get("DefaultTime", "")),
        nodes=NodeCounts(**counts),
        cpus=Capacity(total=cpus_total, idle=cpus_idle),
        gpus=Capacity(total=gpus_total, idle=gpus_idle),
        memory_mb=memory,
        allow_accounts=_allow_list(record.get("AllowAccounts", "ALL")),
        deny_accounts=name_list(record.get("DenyAccounts", "")),
        allow_groups=_allow_list(record.get("AllowGroups", "ALL")),
        allow_qos=_allow_list(record.get("AllowQos", "ALL")),
        deny_qos=name_list(record.get("DenyQos", "")),
        root_only=record.get("RootOnly") == "YES",
        hidden=record.get("Hidden") == "YES",
    )


def _allow_list(value: str) -> tuple[str, ...] | None:
    return None if value.strip() == "ALL" else name_list(value)


def _any_permitted(
    names: Collection[str], allowed: tuple[str, ...] | None, denied: tuple[str, ...]
) -> bool:
    return any((allowed is None or name in allowed) and name not in denied for name in names)
