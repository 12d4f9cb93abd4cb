"""What the magics answer with: a table, HTML in a notebook and aligned text in a terminal."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from jupyterlab_hpc.slurm.records import Job, Partition

_QUEUE_COLUMNS = ("JOBID", "PARTITION", "NAME", "USER", "STATE", "TIME", "TIME_LIMIT",
                  "NODES", "NODELIST(REASON)")  # fmt: skip
_ACCOUNTING_COLUMNS = ("JOBID", "NAME", "USER", "PARTITION", "ACCOUNT", "CPUS", "STATE",
                       "ELAPSED", "EXITCODE")  # fmt: skip
_PARTITION_COLUMNS = ("PARTITION", "AVAIL", "TIMELIMIT", "NODES(A/I/O/T)", "CPUS(I/T)",
                      "GPUS(I/T)")  # fmt: skip


class Table:
    """Rows of text under column names. Every value is shown on one line with its control
    characters escaped: job names and paths are the user's text, and a line break or a
    terminal's escape sequence in one must not pass for a row or recolour the terminal."""

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        self.columns = tuple(columns)
        self.rows = [tuple(_one_line(value) for value in row) for row in rows]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        # What IPython shows as plain text (a terminal, a notebook without HTML).
        widths = [max(map(len, column)) for column in zip(self.columns, *self.rows, strict=True)]
        return "\n".join(
            "  ".join(
                value.ljust(width) for value, width in zip(line, widths, strict=True)
            ).rstrip()
            for line in (self.columns, *self.rows)
        )


def queue_table(jobs: Iterable[Job]) -> Table:
    """Jobs in Slurm's queue, in the columns of squeue's default output."""
    return Table(
        _QUEUE_COLUMNS,
        (
            (job.id, job.partition or "", job.name, job.user, job.state,
             duration(job.elapsed), duration(job.time_limit, unset="UNLIMITED"),
             str(job.node_count or ""), job.nodes or f"({job.reason or 'None'})")
            for job in jobs
        ),
    )  # fmt: skip


def accounting_table(jobs: Iterable[Job]) -> Table:
    """Jobs as accounting records them, in the columns of sacct's default output and more."""
    return Table(
        _ACCOUNTING_COLUMNS,
        (
            (job.id, job.name, job.user, job.partition or "", job.account or "",
             str(job.cpus or ""), job.state, duration(job.elapsed), job.exit_code or "")
            for job in jobs
        ),
    )  # fmt: skip


def partitions_table(partitions: Iterable[Partition]) -> Table:
    """Partitions as sinfo summarises them (``--summarize``), the default one marked ``*``."""
    return Table(_PARTITION_COLUMNS, (_partition_row(partition) for partition in partitions))


def _partition_row(partition: Partition) -> tuple[str, ...]:
    nodes = partition.nodes
    # sinfo's A/I/O/T: allocated (mixed ones too), idle, other (down, drained ...), total.
    allocated = nodes.allocated + nodes.mixed
    other = nodes.total - allocated - nodes.idle
    return (
        partition.name + ("*" if partition.default else ""),
        partition.state.lower(),
        duration(partition.max_time, unset="infinite"),
        f"{allocated}/{nodes.idle}/{other}/{nodes.total}",
        f"{partition.cpus.idle}/{partition.cpus.total}",
        f"{partition.gpus.idle}/{partition.gpus.total}",
    )


def duration(seconds: int | None, unset: str = "") -> str:
    """Seconds as Slurm's commands print a time: ``0:05``, ``1:02:03``, ``2-00:00:00``."""
    if seconds is None:
        return unset
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def _one_line(value: str) -> str:
    """``value`` with every character that is not printable (line breaks, ESC) escaped."""
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in value)
