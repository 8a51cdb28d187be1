"""Adding and removing a line of a pip requirements file, as text: every other byte stays
(comments, order, blank lines, the line ending, a missing final newline)."""

from __future__ import annotations

import re

from pyve.errors import UsageError
from pyve.installers.prune import requirement_name

_OPTION = re.compile(r"^\s*-")


def line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _entries(text: str) -> list[tuple[int, int, str]]:
    """(first line, end line, requirement text) of each requirement, physical line indexes of
    `text.splitlines(keepends=True)`; a `\\` continuation spans lines; options and comments
    are not requirements."""
    lines = text.splitlines(keepends=True)
    found = []
    index = 0
    while index < len(lines):
        start = index
        joined = ""
        while True:
            raw = lines[index].rstrip("\r\n")
            index += 1
            if raw.endswith("\\") and index < len(lines):
                joined += raw[:-1] + " "
                continue
            joined += raw
            break
        logical = re.split(r"(?:^|\s)#", joined, maxsplit=1)[0].strip()
        if logical and not _OPTION.match(logical):
            found.append((start, index, logical))
    return found


def names(text: str) -> dict[str, str]:
    """canonical name -> the requirement as written, for each requirement line."""
    found: dict[str, str] = {}
    for _start, _end, requirement in _entries(text):
        name = requirement_name(requirement)
        if name:
            found.setdefault(name, requirement)
    return found


def add(text: str, spec: str) -> str:
    """`spec` as a new last line; a requirement already there for its name is replaced in
    place (its inline comment kept)."""
    name = requirement_name(spec)
    lines = text.splitlines(keepends=True)
    for start, end, requirement in _entries(text):
        if requirement_name(requirement) == name:
            first = lines[start]
            body = first.rstrip("\r\n")
            comment = re.search(r"\s+#.*$", body) if end - start == 1 else None
            eol = first[len(body):] or (lines[end - 1][len(lines[end - 1].rstrip("\r\n")):])
            indent = body[: len(body) - len(body.lstrip())]
            lines[start:end] = [indent + spec + (comment.group(0) if comment else "") + eol]
            return "".join(lines)
    eol = line_ending(text)
    if not text:
        return spec + "\n"
    if text.endswith(("\n", "\r")):
        return text + spec + eol
    return text + eol + spec  # the file had no final newline: it still has none


def remove(text: str, name: str) -> str:
    """Take out every requirement line of `name` (canonical), and the indented comment lines
    below it (pip-compile's `# via`). UsageError-free: the caller checks `names` first."""
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    for start, end, requirement in _entries(text):
        if requirement_name(requirement) == name:
            drop.update(range(start, end))
            below = end
            while below < len(lines) and re.match(r"^\s+#", lines[below]):
                drop.add(below)
                below += 1
    kept = [line for index, line in enumerate(lines) if index not in drop]
    result = "".join(kept)
    if text and not text.endswith(("\n", "\r")) and result.endswith(("\n", "\r")) \
            and max(drop, default=-1) == len(lines) - 1:
        result = result.rstrip("\r\n")  # the last line went: the file still ends without one
    return result


def check_spec(spec: str, where: str) -> str:
    name = requirement_name(spec)
    if name is None or spec.strip().startswith("-"):
        raise UsageError(f"{spec!r} is not a requirement pyve can add to {where}",
                         hint="give a name with an optional version, e.g. `requests>=2.31`")
    return name
