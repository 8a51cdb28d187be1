"""Adding and removing a spec in environment.yml: its conda `dependencies`, or their `pip:`
section. ruamel.yaml (round-trip) reads the file and says on which line and column each item
is; the edit itself is a line put in or taken out of the text, so every other byte stays as
it was (a YAML dump would re-indent and re-quote). The result is parsed again and checked."""

from __future__ import annotations

from typing import Any

from pyve.backends.conda.envfile import conda_spec_name
from pyve.errors import UsageError
from pyve.installers.prune import requirement_name
from pyve.manifest.requirements import line_ending

FILE = "environment.yml"


def _load(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise UsageError(f"{FILE}: invalid YAML: {str(exc).splitlines()[0]}",
                         hint=f"fix {FILE}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{FILE}: not a mapping of name, channels, dependencies",
                         hint=f"fix {FILE}")
    return data


def _block(seq: Any, what: str) -> Any:
    if seq is not None and not isinstance(seq, list):
        raise UsageError(f"{FILE}: {what} is not a list", hint=f"fix {FILE}")
    style = getattr(seq, "fa", None)  # ruamel's record of how the list was written
    if style is not None and style.flow_style():
        raise UsageError(f"{FILE}: {what} is written inline ([...]); pyve edits only a list "
                         "of `- item` lines", hint=f"write {what} one item per line")
    return seq


def _pip_item(deps: Any) -> int | None:
    for index, item in enumerate(deps or []):
        if isinstance(item, dict) and "pip" in item:
            return index
    return None


def _name(spec: str, pip: bool) -> str | None:
    return requirement_name(spec) if pip else conda_spec_name(spec)


def _items(data: Any, pip: bool) -> tuple[Any, list[int]]:
    """The list the edit goes in (None when absent) and the indexes of its string items."""
    deps = _block(data.get("dependencies"), "dependencies")
    if pip:
        at = _pip_item(deps)
        seq = _block(deps[at]["pip"], "the pip: section") if at is not None else None
    else:
        seq = deps
    return seq, [i for i, item in enumerate(seq or []) if isinstance(item, str)]


def names(text: str, pip: bool) -> dict[str, str]:
    seq, strings = _items(_load(text), pip)
    found: dict[str, str] = {}
    for index in strings:
        name = _name(seq[index], pip)
        if name:
            found.setdefault(name, str(seq[index]))
    return found


def _scalar(spec: str, like: str) -> str:
    """`spec` quoted as the item it follows is (`'numpy'` after `'python'`)."""
    if like[:1] == "'":
        return "'" + spec.replace("'", "''") + "'"
    if like[:1] == '"':
        return '"' + spec.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return spec


def _insert(text: str, at: int, new: list[str]) -> str:
    """`new` lines put in before physical line `at` (at the end when `at` is past it)."""
    eol = line_ending(text)
    lines = text.splitlines(keepends=True)
    added = [line + eol for line in new]
    if at >= len(lines):
        if lines and not lines[-1].endswith(("\n", "\r")):
            # the file had no final newline: it still has none
            return text + eol + eol.join(new)
        return text + "".join(added)
    return "".join([*lines[:at], *added, *lines[at:]])


def add(text: str, spec: str, pip: bool) -> str:
    """`spec` after the list's last item (or in place of the item of the same name)."""
    if pip and "pip" not in names(text, pip=False):
        text = add(text, "pip", pip=False)  # the pip: section is installed by the env's pip
    result = _add(text, spec, pip)
    _verify(text, result, pip, _name(spec, pip), spec)
    return result


def _add(text: str, spec: str, pip: bool) -> str:
    data = _load(text)
    seq, strings = _items(data, pip)
    lines = text.splitlines(keepends=True)
    name = _name(spec, pip)
    for index in strings:
        if _name(seq[index], pip) == name:
            row, col = seq.lc.item(index)
            line = lines[row]
            old = _scalar(str(seq[index]), line[col:])
            lines[row] = line[:col] + _scalar(spec, line[col:]) + line[col + len(old):]
            return "".join(lines)
    if seq:  # after the last string item, written as it is
        last = strings[-1] if strings else 0
        row, col = seq.lc.item(last)
        prefix, like = lines[row][:col], lines[row][col:]
        if not strings:  # only the pip: mapping: before it
            return _insert(text, row, [prefix + spec])
        return _insert(text, row + 1, [prefix + _scalar(spec, like)])
    deps = data.get("dependencies")
    if pip:
        if deps:  # a new pip: section after the last item
            last = max(range(len(deps)), key=lambda i: deps.lc.item(i)[0])
            row, col = deps.lc.item(last)
            prefix = lines[row][:col]
            return _insert(text, row + 1, [prefix + "pip:", " " * (col + 2) + "- " + spec])
        # `- pip:` with nothing under it
        at = _pip_item(deps)
        if at is not None:
            row, col = deps[at].lc.key("pip")
            return _insert(text, row + 1, [" " * (col + 2) + "- " + spec])
    if "dependencies" in data:  # `dependencies:` with nothing under it
        row, col = data.lc.key("dependencies")
        return _insert(text, row + 1, [" " * (col + 2) + "- " + spec])
    return _insert(text, len(lines), ["dependencies:", "  - " + spec])


def remove(text: str, name: str, pip: bool) -> str:
    """Every item of `name` taken out; a pip: section left empty goes too."""
    data = _load(text)
    seq, strings = _items(data, pip)
    drop = {seq.lc.item(i)[0] for i in strings if _name(seq[i], pip) == name}
    if pip and seq is not None and len(drop) == len(seq):
        deps = data["dependencies"]
        drop.add(deps.lc.item(_pip_item(deps) or 0)[0])
    lines = text.splitlines(keepends=True)
    result = "".join(line for row, line in enumerate(lines) if row not in drop)
    if text and not text.endswith(("\n", "\r")) and len(lines) - 1 in drop:
        result = result.rstrip("\r\n")  # the last line went: the file still ends without one
    _verify(text, result, pip, name, None)
    return result


def _verify(before: str, after: str, pip: bool, name: str | None, spec: str | None) -> None:
    """The edited file parses, `name` is there as `spec` (or gone), nothing else moved."""
    def others(text: str) -> tuple[list[str], list[str]]:
        data = _load(text)
        conda = [s for s in _items(data, False)[0] or [] if isinstance(s, str)]
        pips = [s for s in _items(data, True)[0] or [] if isinstance(s, str)]
        return ([s for s in conda if pip or conda_spec_name(s) != name],
                [s for s in pips if not pip or requirement_name(s) != name])

    try:
        now = names(after, pip)
        same = others(before) == others(after)
    except UsageError:
        now, same = {}, False
    if not same or now.get(name or "") != spec:
        raise UsageError(f"{FILE}: pyve cannot edit this file's layout without changing "
                         "the rest of it", hint=f"edit {FILE} by hand, then run `pyve build`")
