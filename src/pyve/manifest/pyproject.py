"""Adding and removing a requirement in pyproject.toml, with tomlkit (a round-trip TOML
library: comments, order, quoting and line endings of the rest of the file stay as they are).

Where: `[project].dependencies`, an extra of `[project.optional-dependencies]`, or a PEP 735
group of `[dependency-groups]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from pyve.errors import UsageError
from pyve.installers.prune import requirement_name


@dataclass(frozen=True)
class Place:
    extra: str | None = None
    group: str | None = None

    def describe(self) -> str:
        if self.extra:
            return f"[project.optional-dependencies] {self.extra}"
        if self.group:
            return f"[dependency-groups] {self.group}"
        return "[project].dependencies"


def _parse(text: str) -> Any:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise UsageError(f"pyproject.toml: invalid TOML: {exc}", hint="fix pyproject.toml"
                         ) from None


def _group_key(table: Any, group: str) -> str:
    """The group's key as written (PEP 735 compares normalised names)."""
    from pyve.installers.pip import canonical_name

    for key in table:
        if canonical_name(key) == canonical_name(group):
            return str(key)
    return group


def _array(doc: Any, place: Place, create: bool) -> Any:
    """The array the requirement goes in; created (empty) when `create` and it is absent."""
    if place.group:
        if "dependency-groups" not in doc:
            if not create:
                return None
            doc.add("dependency-groups", tomlkit.table())
        table = doc["dependency-groups"]
        key = _group_key(table, place.group)
    else:
        project: Any = doc.get("project")
        if not isinstance(project, dict):
            raise UsageError("pyproject.toml has no [project] table to add dependencies to",
                             hint="add a [project] table (name, version), or use "
                                  "requirements.txt")
        if "dependencies" in (project.get("dynamic") or []) and not place.extra:
            raise UsageError("pyproject.toml: [project] dependencies are dynamic (the build "
                             "backend makes them); pyve cannot edit them",
                             hint="add the requirement where the build backend reads it")
        if place.extra:
            if "optional-dependencies" not in project:
                if not create:
                    return None
                doc["project"].add("optional-dependencies", _new_table(project, place.extra))
            table = project["optional-dependencies"]
            key = place.extra
        else:
            table, key = project, "dependencies"
    if key not in table:
        if not create:
            return None
        table[key] = tomlkit.array()
    array = table[key]
    if not isinstance(array, list):
        raise UsageError(f"pyproject.toml: {place.describe()} is not a list",
                         hint="make it a list of requirement strings")
    return array


def _new_table(project: Any, key: str) -> Any:
    """[project.optional-dependencies] with `key = []`, to go right after [project]'s keys:
    the blank lines and comments that ended [project] (those above the next table) move
    below it, so they stay above the table they were written for."""
    table = tomlkit.table()
    table[key] = tomlkit.array()
    body = project.value.body
    trailing: list[Any] = []
    while body and body[-1][0] is None:  # whitespace and comments after the last key
        trailing.insert(0, body.pop()[1])
    for item in trailing:
        table.add(item)
    return table


def names(text: str, place: Place) -> dict[str, str]:
    array = _array(_parse(text), place, create=False)
    found: dict[str, str] = {}
    for item in array or []:
        if isinstance(item, str) and requirement_name(item):
            found.setdefault(str(requirement_name(item)), str(item))
    return found


def add(text: str, place: Place, spec: str) -> str:
    """`spec` appended (or, for a name already there, put in its place)."""
    doc = _parse(text)
    array = _array(doc, place, create=True)
    name = requirement_name(spec)
    for index, item in enumerate(array):
        if isinstance(item, str) and requirement_name(item) == name:
            array[index] = spec
            break
    else:
        array.append(spec)
    return _dumps(doc, text)


def remove(text: str, place: Place, name: str) -> str:
    doc = _parse(text)
    array = _array(doc, place, create=False)
    for index in reversed(range(len(array or []))):
        item = array[index]
        if isinstance(item, str) and requirement_name(item) == name:
            del array[index]
    return _dumps(doc, text)


def _dumps(doc: Any, text: str) -> str:
    result = tomlkit.dumps(doc)
    if "\r\n" in text and text.count("\n") == text.count("\r\n"):
        # a new table's lines: in the file's line ending
        result = result.replace("\r\n", "\n").replace("\n", "\r\n")
    return result
