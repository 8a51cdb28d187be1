"""No import climbs back up: every import in src/pyve, at any depth, points to the same layer
of tests/unit/import_layers.toml or one below it, and none closes a loop.

Imports inside functions count: a lazy import saves start-up time, it does not change which
module depends on which. Imports under `if TYPE_CHECKING` count too: a module that names
another's type depends on it (the reader looks it up), and none of ours needs an exception.
"""

from __future__ import annotations

import ast
import fnmatch
import shutil
from pathlib import Path

from pyve.project import tomllib

SRC = Path(__file__).resolve().parents[2] / "src"
CONTRACT = Path(__file__).with_name("import_layers.toml")


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(src: Path) -> dict[str, dict[str, int]]:
    """module -> {pyve module it imports: the first line that does}, at any depth."""
    found: dict[str, dict[str, int]] = {}
    modules = {module_name(p, src) for p in (src / "pyve").rglob("*.py")}
    for path in sorted((src / "pyve").rglob("*.py")):
        name = module_name(path, src)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = found.setdefault(name, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            named: list[str] = []
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                # `from pyve import health` imports the module pyve.health
                named = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                         for a in node.names]
            for target in named:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]  # `import pyve.x.y` of a name
                if target in modules and target != name:
                    targets.setdefault(target, node.lineno)
    return found


def layers(contract: Path = CONTRACT) -> list[tuple[str, list[str]]]:
    data = tomllib.loads(contract.read_text(encoding="utf-8"))
    return [(layer["name"], layer["modules"]) for layer in data["layer"]]


def layer_of(module: str, table: list[tuple[str, list[str]]]) -> int:
    matches = [i for i, (_name, patterns) in enumerate(table)
               if any(fnmatch.fnmatchcase(module, p) for p in patterns)]
    assert len(matches) == 1, (f"{module} matches {len(matches)} layers of {CONTRACT.name}: "
                               "give it exactly one")
    return matches[0]


def violations(src: Path) -> list[str]:
    table = layers()
    graph = imports(src)
    found = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module, table)
        for target, line in sorted(targets.items()):
            theirs = layer_of(target, table)
            if theirs > mine:
                found.append(f"{module}:{line} imports {target}: layer {table[mine][0]!r} "
                             f"imports {table[theirs][0]!r}, which is above it")
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return found


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle through each loop of imports (depth-first, white/grey/black)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, {})):
            if state.get(target) == 1:
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_no_import_climbs_a_layer() -> None:
    assert violations(SRC) == []


def test_every_layer_module_exists() -> None:
    """A pattern naming no module is a stale line of the contract."""
    modules = set(imports(SRC))
    stale = [p for _name, patterns in layers() for p in patterns
             if not fnmatch.filter(modules, p)]
    assert stale == []


def _planted(tmp_path: Path, module: str, line: str) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(SRC / "pyve", copy / "pyve",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")
    return copy


def test_a_planted_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    copy = _planted(tmp_path, "pyve.health",
                    "\n\ndef _planted() -> None:\n    from pyve.commands import doctor  # noqa\n")
    found = violations(copy)
    assert found[0].startswith("pyve.health:") and "imports pyve.commands.doctor: layer " \
        "'backends' imports 'commands'" in found[0], found
    assert all(v.startswith("import cycle:") for v in found[1:])  # the loop it closes


def test_a_planted_type_checking_import_is_caught(tmp_path: Path) -> None:
    copy = _planted(tmp_path, "pyve.installers.uv",
                    "\nif TYPE_CHECKING:\n    from ..backends.venv import backend  # noqa\n")
    assert any("pyve.installers.uv:" in v and "pyve.backends.venv.backend" in v
               for v in violations(copy))


def test_a_planted_cycle_inside_a_layer_is_caught(tmp_path: Path) -> None:
    copy = _planted(tmp_path, "pyve.redact", "\n\ndef _planted() -> None:\n"
                    "    import pyve.errors  # noqa\n")
    assert any(v.startswith("import cycle:") and "pyve.errors" in v and "pyve.redact" in v
               for v in violations(copy))
