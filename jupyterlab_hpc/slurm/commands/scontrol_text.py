"""The parser of ``scontrol show ...`` text: records of ``Key=Value`` fields.

scontrol prints a record either on indented lines (its default form) or on one line (``-o``),
fields separated by single spaces. A value may itself hold spaces (``Reason=Not responding
[slurm@...]``, ``Command=/home/a/run.sh 5 x``, a comment, a path) and even ``Word=`` (a comment
``limit B=c``), so a field ends only where the next ``Key=`` begins, and in the one-line form
nothing better can be known. The default form knows more: a line break always ends a field, and
scontrol prints each free-text field last on its line. Callers name those fields in
``free_text``; in the default form their value runs to the end of the line, whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Collection

# A key as scontrol prints them: "JobId", "ReqB:S:C:T", "CPUs/Task", "MCS_label",
# "SharesRaw/Norm/Level/Factor". The capital keeps TRES items ("cpu=1") and most free text out.
_KEY = re.compile(r"(?:^|(?<=\s))([A-Z][\w/:]*)=")
# "alice(1001)", "root(1)": a name with the numeric id scontrol adds to it.
_NAME_WITH_ID = re.compile(r"^(?P<name>.*)\((?P<id>\d+)\)$")


def parse_records(output: str, *, free_text: Collection[str] = ()) -> list[dict[str, str]]:
    """Every record in ``output``, as its fields in order; header lines are skipped.

    A record starts on an unindented ``Key=`` line; its indented lines that follow belong to it.
    Lines without a field ("No reservations in the system", "Association Records") and blank
    lines end a record.
    """
    records: list[list[str]] = []
    current: list[str] | None = None
    for line in output.splitlines():
        starts_with_key = _KEY.match(line.strip()) is not None
        if not starts_with_key:
            current = None
        elif line[:1].isspace() and current is not None:
            current.append(line)
        else:
            current = [line]
            records.append(current)
    return [_record(lines, free_text) for lines in records]


def parse_fields(line: str, *, free_text: Collection[str] = ()) -> dict[str, str]:
    """The fields of one line; a ``free_text`` field takes the rest of the line."""
    fields: dict[str, str] = {}
    text = line.strip()
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = match[1]
        if key in free_text:
            fields[key] = text[match.end() :].rstrip()
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].rstrip())
    return fields


def split_name_id(value: str) -> tuple[str, int | None]:
    """``alice(1001)`` as ("alice", 1001); a value without an id keeps it whole."""
    match = _NAME_WITH_ID.match(value.strip())
    if match is None:
        return value.strip(), None
    return match["name"], int(match["id"])


def name_list(value: str) -> tuple[str, ...]:
    """A comma list (``proj1,proj2``) as names; ``(null)`` or empty is no names."""
    text = value.strip()
    if text in {"", "(null)", "N/A"}:
        return ()
    return tuple(name for name in text.split(",") if name)


def _record(lines: list[str], free_text: Collection[str]) -> dict[str, str]:
    # On the one-line form a free-text value cannot be told from the fields after it.
    free = free_text if len(lines) > 1 else ()
    record: dict[str, str] = {}
    for line in lines:
        for key, value in parse_fields(line, free_text=free).items():
            record.setdefault(key, value)
    return record
