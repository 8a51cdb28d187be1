"""yaml.safe_load for files a stranger may have written: aliases may not expand a document
past a small bound (a "billion laughs" file is a few lines that expand to gigabytes), and
nesting that would exhaust Python's recursion is refused instead of crashing."""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIAS_EXPANSION = 10_000  # nodes that aliases may add to a document
MAX_DEPTH = 100  # an environment.yml or conda-lock.yml nests 4 or 5 levels
HINT = "write it out plainly: without deep nesting, and without aliases (*name) that repeat it"


class DocumentTooLarge(ValueError):
    """The document is refused: its aliases expand too far, or it nests too deeply."""


class _Loader(yaml.SafeLoader):
    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_size(node)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_size(root: yaml.Node) -> None:
    """Count the nodes the document has once its aliases are expanded, without expanding it:
    each distinct node's expanded size is computed once (iteratively: no recursion limit)."""
    size: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise DocumentTooLarge("an alias refers to the node that contains it")
        if depth > MAX_DEPTH:
            raise DocumentTooLarge(f"nested more than {MAX_DEPTH} levels deep")
        distinct += 1
        on_path.add(key)
        stack.append((node, depth, True))
        stack += [(child, depth + 1, False) for child in _children(node) if id(child) not in size]
    if size[id(root)] - distinct > MAX_ALIAS_EXPANSION:
        raise DocumentTooLarge(f"its aliases expand it to {size[id(root)]:,} nodes "
                               f"(at most {MAX_ALIAS_EXPANSION:,} more than written are allowed)")


def load(text: str) -> Any:
    """yaml.safe_load, bounded. Raises yaml.YAMLError or DocumentTooLarge.

    A plain document (no aliases, nesting within the bound: every file pyve writes, and
    nearly every one people write) is loaded by libyaml, where PyYAML has it: ~40 ms for a
    150-package conda-lock.yml, against ~320 ms in pure Python. Anything else, including a
    syntax error (for PyYAML's own wording of it), takes the bounded pure-Python path."""
    if _is_plain(text):
        return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - a safe loader
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:  # PyYAML composes nested nodes recursively
        raise DocumentTooLarge(f"nested more than {MAX_DEPTH} levels deep") from None


_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _is_plain(text: str) -> bool:
    """libyaml's events (a flat stream: nothing is expanded or nested in Python) show no
    alias and no nesting past MAX_DEPTH, so libyaml's recursive composer is safe on it."""
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, _OPENS):
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif isinstance(event, _CLOSES):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                return False
    except yaml.YAMLError:
        return False
    return True
