"""Where a project's pip dependencies come from, and what pip is told to install.

The rules (docs/backends.md has the table):
- `requirements.txt` is installed with `pip install -r`.
- `requirements.in` (pip-tools' source) is installed when there is no `requirements.txt`;
  next to one, `requirements.txt` is pip-compile's output and is what gets installed
  (what `pip-sync` does), and pyve says so.
- `pyproject.toml` with a `[project]` or `[build-system]` table is the project itself:
  `pip install -e .`, with the extras `pyve.toml` selects (`extras = ["dev"]`).
- `groups = ["test"]` in `pyve.toml` selects PEP 735 `[dependency-groups]` of pyproject.toml.
- With the venv backend, an `environment.yml`'s `pip:` section is installed too (its conda
  packages cannot be: pyve says which it leaves out).
- Files pyve does not read (uv.lock, poetry.lock, pdm.lock, Pipfile, a lone setup.py) get one
  note each, saying what pyve reads instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyve.decision import Decision
from pyve.errors import UsageError

REQUIREMENTS = "requirements.txt"
PIP_TOOLS_SOURCE = "requirements.in"
PYPROJECT = "pyproject.toml"
ENV_FILE = "environment.yml"

# Another tool's lock or manifest next to the project: pyve does not read it, and says so.
FOREIGN_FILES = {  # (each is in project.NOTED_FILES: the fast path watches it)
    "uv.lock": "uv's lock",
    "poetry.lock": "poetry's lock",
    "pdm.lock": "pdm's lock",
    "Pipfile.lock": "pipenv's lock",
    "pylock.toml": "a PEP 751 lock",
}


def candidate_sources(root: Path, env_file_pip: bool) -> list[str]:
    """The project's files a pip install can read, in install order; environment.yml (its
    pip: section) when the backend installs it as a pip source (env_file_pip)."""
    found = []
    if (root / REQUIREMENTS).is_file():
        found.append(REQUIREMENTS)
    elif (root / PIP_TOOLS_SOURCE).is_file():
        found.append(PIP_TOOLS_SOURCE)
    if (root / PYPROJECT).is_file() and is_installable(root / PYPROJECT):
        found.append(PYPROJECT)
    if env_file_pip and (root / ENV_FILE).is_file() and _env_pip_lines(root):
        found.append(ENV_FILE)
    return found


def is_installable(path: Path) -> bool:
    table = _pyproject(path)
    return "project" in table or "build-system" in table


def _pyproject(path: Path) -> dict[str, Any]:
    from pyve.project import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # not ours to judge here: the Python pin reader names the TOML error
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        return {k: {} for k in ("project", "build-system") if f"[{k}]" in text}
    return data if isinstance(data, dict) else {}


PYLOCK = "pylock.toml"


def pyve_table(path: Path) -> dict[str, Any] | None:
    """The [tool.pyve] table of a pylock.toml pyve wrote beside requirements.lock.txt (None:
    no such file, or the project's own lock, which pyve never overwrites)."""
    if not path.is_file():
        return None
    tool = _pyproject(path).get("tool")
    table = tool.get("pyve") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _env_pip_lines(root: Path) -> list[str]:
    from pyve.backends.conda.envfile import load_envfile

    return list(load_envfile(root / ENV_FILE).pip_specs)


def install_args(root: Path, sources: Iterable[str], extras: Iterable[str] = (),
                 groups: Iterable[str] = ()) -> list[str]:
    """pip arguments for the sources the user agreed to install from (run from `root`)."""
    args: list[str] = []
    extras = list(extras)
    for source in sources:
        if source == PYPROJECT:
            args += ["-e", f".[{','.join(extras)}]" if extras else "."]
        elif source == ENV_FILE:
            for line in _env_pip_lines(root):
                args += line.split(maxsplit=1) if line.startswith("-") else [line]
        else:
            args += ["-r", source]
    return args + group_requirements(root, groups)


def selection(decision: Decision) -> dict[str, list[str]]:
    """pyve.toml's extras and groups, in a pip stage's config (a change re-runs it)."""
    return {"extras": list(decision.extras), "groups": list(decision.groups)}


def env_section_file(root: Path, directory: Path) -> Path:
    """environment.yml's pip: section as a requirements file in `directory`, for tools that
    read only requirements files (uv pip compile): relative paths made absolute, since they
    are relative to the env file's folder."""
    lines = []
    for line in _env_pip_lines(root):
        option, _, value = line.partition(" ")
        value = value.strip()
        if option in ("-r", "-c", "--requirement", "--constraint") or (
                option in ("-e", "--editable") and "://" not in value
                and not value.startswith(("git+", "hg+", "svn+", "bzr+"))):
            line = f"{option} {(root / value).resolve()}"
        elif line.startswith("."):
            line = str((root / line).resolve())
        lines.append(line)
    path = directory / "environment-pip.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_selection(root: Path, extras: Iterable[str], groups: Iterable[str]) -> None:
    """pyve.toml's extras and groups must exist in pyproject.toml: one line naming the one
    that does not, and what there is."""
    extras, groups = list(extras), list(groups)
    if not extras and not groups:
        return
    table = _pyproject(root / PYPROJECT)
    project = table.get("project")
    offered = (project.get("optional-dependencies") if isinstance(project, dict) else None) or {}
    for extra in extras:
        if extra not in offered:
            raise UsageError(
                f"pyve.toml: extras: {extra!r} is not in [project.optional-dependencies] "
                f"of pyproject.toml (it has: {', '.join(sorted(offered)) or 'none'})",
                hint="fix the name in pyve.toml, or add the extra to pyproject.toml")
    declared = _groups_table(table)
    for group in groups:
        if _normal(group) not in declared:
            raise UsageError(
                f"pyve.toml: groups: {group!r} is not in [dependency-groups] of pyproject.toml"
                f" (it has: {', '.join(sorted(declared)) or 'none'})",
                hint="fix the name in pyve.toml, or add the group to pyproject.toml")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _groups_table(table: dict[str, Any]) -> dict[str, list[Any]]:
    groups = table.get("dependency-groups")
    if not isinstance(groups, dict):
        return {}
    return {_normal(k): v for k, v in groups.items() if isinstance(v, list)}


def group_requirements(root: Path, groups: Iterable[str]) -> list[str]:
    """The requirement strings of PEP 735 groups, `{include-group = "x"}` followed (pip's
    `--group` needs pip 25.1; the pip in a new venv may be older)."""
    groups = list(groups)
    if not groups:
        return []
    declared = _groups_table(_pyproject(root / PYPROJECT))
    found: list[str] = []

    def add(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise UsageError(f"pyproject.toml: [dependency-groups] {name!r} includes itself "
                             f"({' -> '.join([*chain, name])})", hint="remove the cycle")
        for item in declared.get(name, []):
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                add(_normal(item["include-group"]), (*chain, name))

    for group in groups:
        add(_normal(group), ())
    return list(dict.fromkeys(found))


def notes(root: Path, env_file_pip: bool, sources: Iterable[str]) -> list[str]:
    """One line per project file pyve does not read (or reads only in part), saying what it
    reads instead. Printed by init and status, shown by doctor."""
    sources = list(sources)
    said = []
    if (root / PIP_TOOLS_SOURCE).is_file():
        if (root / REQUIREMENTS).is_file():
            said.append(f"{PIP_TOOLS_SOURCE} found: pyve installs {REQUIREMENTS}, its "
                        f"pip-compile output (as pip-sync does); re-run pip-compile after "
                        f"editing {PIP_TOOLS_SOURCE}")
        else:
            said.append(f"{PIP_TOOLS_SOURCE} found: pyve installs it (pip-tools' source; "
                        "no compiled requirements.txt)")
    for name, what in FOREIGN_FILES.items():
        if name == PYLOCK and pyve_table(root / name) is not None:
            continue  # pyve's own lock, written beside requirements.lock.txt
        if (root / name).is_file():
            said.append(f"{name} found ({what}): pyve does not read it; it resolves "
                        f"{' and '.join(sources) or 'the project'} itself and writes its own "
                        "lock (see docs/backends.md to make them agree)")
    if env_file_pip and ENV_FILE in sources:
        said.append(f"{ENV_FILE}: the venv backend installs its pip: section only; its conda "
                    "packages need `--backend micromamba`")
    if not sources:
        if (root / "Pipfile").is_file():
            said.append("Pipfile found: pyve does not read it; `pipenv requirements > "
                        "requirements.txt` makes a file pyve reads")
        for name in ("setup.py", "setup.cfg"):
            if (root / name).is_file():
                said.append(f"{name} found: pyve does not install a project without "
                            "pyproject.toml; add one, or `-e .` to requirements.txt")
                break
    return said
