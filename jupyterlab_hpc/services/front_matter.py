"""Markdown files with front matter: ``key: value`` lines between two ``---`` lines.

Deliberately not YAML: announcements need a handful of flat fields, and a site's admins
should get a clear error for a typo rather than a value YAML silently reinterpreted
(``no`` as false, ``1:30`` as a number).
"""

from __future__ import annotations

_FENCE = "---"


class FrontMatterError(ValueError):
    """The file does not start with a well-formed front matter block."""


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """The fields (keys lower-cased, values without surrounding quotes) and the body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FENCE:
        msg = f"does not start with a front matter line {_FENCE!r}"
        raise FrontMatterError(msg)
    try:
        end = next(index for index, line in enumerate(lines[1:], 1) if line.strip() == _FENCE)
    except StopIteration:
        msg = f"front matter is not closed by a {_FENCE!r} line"
        raise FrontMatterError(msg) from None
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or not key:
            msg = f"line {number}: expected 'key: value', got {line.strip()!r}"
            raise FrontMatterError(msg)
        if key in fields:
            msg = f"line {number}: {key!r} is given twice"
            raise FrontMatterError(msg)
        fields[key] = _unquote(value.strip())
    return fields, "\n".join(lines[end + 1 :]).strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
