"""Reservations (``scontrol show reservation``), the source of maintenance announcements."""

from __future__ import annotations

from jupyterlab_hpc.slurm.commands.scontrol_text import name_list, parse_records
from jupyterlab_hpc.slurm.notation import int_or_none, text_or_none, utc_time
from jupyterlab_hpc.slurm.records import Reservation

# Printed on a line of its own (Slurm >= 23.02), so it may hold anything.
_FREE_TEXT = frozenset({"Comment"})


def scontrol_reservations_argv() -> list[str]:
    return ["scontrol", "show", "reservation"]


def parse_reservations(output: str) -> list[Reservation]:
    """Reservations from ``scontrol show reservation``; "No reservations in the system" is []."""
    return [
        Reservation(
            name=record["ReservationName"],
            start=utc_time(record.get("StartTime", "")),
            end=utc_time(record.get("EndTime", "")),
            state=record.get("State", "UNKNOWN"),
            nodes=text_or_none(record.get("Nodes", "")),
            node_count=int_or_none(record.get("NodeCnt", "")),
            partition=text_or_none(record.get("PartitionName", "")),
            flags=name_list(record.get("Flags", "")),
            users=name_list(record.get("Users", "")),
            groups=name_list(record.get("Groups", "")),
            accounts=name_list(record.get("Accounts", "")),
        )
        for record in parse_records(output, free_text=_FREE_TEXT)
        if "ReservationName" in record
    ]
