"""Parsers for the field formats Slurm's text output uses (times, durations, sizes, TRES)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

# Between fields of delimited output whose text no user chooses (ids, states, times, numbers,
# the names of partitions, nodes and accounts, which admins give): a character Slurm copies as
# is. Around text users choose, a separator made for the query (query_separator).
SEPARATOR = "\x1f"
# What a query's record end starts with (record_end): the record separator.
RECORD_END = "\x1e"


def query_separator() -> str:
    """A separator for one query whose output holds text users choose (job names, comments,
    work dirs, output paths): Slurm stores and prints those raw, newlines and all, so only a
    separator no user can predict marks where a value ends. Fresh for every query: ``ps`` shows
    every user the command lines, separators included."""
    return SEPARATOR + secrets.token_hex(8)


def record_end(separator: str) -> str:
    """What ends each record of a query with ``separator``: as unpredictable, yet different."""
    return RECORD_END + separator[len(SEPARATOR) :]


class EndedRecords:
    """Records of output in which each record's last value is followed by ``end`` and a line
    break (squeue ``--Format`` with ``end`` as the last field's suffix).

    Fed the output's lines in order, it hands back each record as soon as it is whole: the
    first line ending with ``end``. A value may hold line breaks, so a record may take several
    lines; none can end one early, as no value holds ``end``.
    """

    def __init__(self, end: str) -> None:
        self.end = end
        self._fragments: list[str] = []

    def feed(self, lines: Iterable[str]) -> Iterator[str]:
        """The records the ``lines`` complete, each with its ``end``."""
        end, fragments = self.end, self._fragments
        for line in lines:
            if not line.endswith(end):
                fragments.append(line)
            elif fragments:
                fragments.append(line)
                yield "\n".join(fragments)
                fragments.clear()
            else:
                yield line  # the usual case: a record on one line


def delimited_records(output: str, separator: str, width: int) -> list[list[str]]:
    """The values of output in which ``separator`` goes between values and a line break after
    each record (sacct/sacctmgr ``--parsable2 --delimiter``), ``width`` values a record.

    Values may hold line breaks, so the output is split on the separator alone: each record's
    last value then runs into the next record's first one. Both must be fields no user can
    put a line break into (a job id, a number): the first line break is the one between them.
    """
    pieces = output.split(separator)
    records: list[list[str]] = []
    record = [pieces[0]]
    for piece in pieces[1:]:
        if len(record) < width - 1:
            record.append(piece)
            continue
        last, _, first = piece.partition("\n")
        records.append([*record, last])
        record = [first]
    return records
