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
- The project's own lock (uv.lock, pylock.toml, pdm.lock, poetry.lock) gives the versions
  (projectlock.py). Files pyve does not read (Pipfile.lock, Pipfile, a lone setup.py) get one
  note each, saying what pyve reads instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyve import buildmeta
from pyve.decision import Decision
from pyve.errors import PyveError, UsageError
from pyve.project import PROJECT_LOCKS

REQUIREMENTS = "requirements.txt"
PIP_TOOLS_SOURCE = "requirements.in"
PYPROJECT = "pyproject.toml"
ENV_FILE = "environment.yml"

# Another tool's lock next to the project: one note each, saying whether pyve installs from
# it (projectlock.KINDS) or not.
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


def project_table(path: Path) -> dict[str, Any] | None:
    """pyproject.toml's [project] table, or None when it has none."""
    table = _pyproject(path).get("project")
    return table if isinstance(table, dict) else None


def _pyproject(path: Path) -> dict[str, Any]:
    from pyve.project import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # not ours to judge here: the Python pin reader names the TOML error
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        return {k: {} for k in ("project", "build-system") if f"[{k}]" in text}
    return data if isinstance(data, dict) else {}


def _conda_packages(root: Path, shown: int = 5) -> str:
    """The conda packages of environment.yml, by name, that a venv leaves out (python and
    pip it has): `numpy, geopandas and 3 more`."""
    from pyve.backends.conda.envfile import load_envfile

    try:
        env = load_envfile(root / ENV_FILE)
    except PyveError:
        return ""  # the build names what is wrong with the file
    names = []
    for spec in env.conda_specs[:-1] if env.implied_pip else env.conda_specs:
        name = re.split(r"[\s=<>!~\[]", spec.split("::")[-1], maxsplit=1)[0]
        if name and name not in ("python", "pip") and name not in names:
            names.append(name)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


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
            check_groups(root)
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
    offered = buildmeta.declared_extras(table)  # None: the build backend computes them
    for extra in extras:
        if offered is not None and _normal(extra) not in offered:
            raise UsageError(
                f"pyve.toml: extras: {extra!r} is not in [project.optional-dependencies] "
                "of pyproject.toml, nor in its setuptools or hatch dynamic metadata "
                f"(it has: {', '.join(sorted(offered)) or 'none'})",
                hint="fix the name in pyve.toml, or add the extra to pyproject.toml")
    declared = _groups_table(table)
    poetry = _poetry_groups(table)
    for group in groups:
        if _normal(group) in declared:
            continue
        if _normal(group) in poetry:
            raise UsageError(
                f"pyve.toml: groups: {group!r} is [tool.poetry.group.{poetry[_normal(group)]}]"
                " of pyproject.toml; pyve reads PEP 735 [dependency-groups] "
                f"(it has: {', '.join(sorted(declared)) or 'none'})",
                hint=f"add a [dependency-groups] {_normal(group)} = [...] table with the same "
                     "requirements, or drop the group from pyve.toml")
        raise UsageError(
            f"pyve.toml: groups: {group!r} is not in [dependency-groups] of pyproject.toml"
            f" (it has: {', '.join(sorted(declared)) or 'none'})",
            hint="fix the name in pyve.toml, or add the group to pyproject.toml")


def _poetry_groups(table: dict[str, Any]) -> dict[str, str]:
    """poetry's own groups ([tool.poetry.group.<name>]), normalised name -> as written."""
    tool = table.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    groups = poetry.get("group") if isinstance(poetry, dict) else None
    return {_normal(k): k for k in groups} if isinstance(groups, dict) else {}


def _normal(name: str) -> str:
    return buildmeta.normal(name)


def _groups_table(table: dict[str, Any]) -> dict[str, list[Any]]:
    groups = table.get("dependency-groups")
    if not isinstance(groups, dict):
        return {}
    return {_normal(k): v for k, v in groups.items() if isinstance(v, list)}


MAX_GROUP_DEPTH = 100  # include-group chains; Python's stack would give out near 1,000


def group_requirements(root: Path, groups: Iterable[str]) -> list[str]:
    """The requirement strings of PEP 735 groups, `{include-group = "x"}` followed (pip's
    `--group` needs pip 25.1; the pip in a new venv may be older)."""
    groups = list(groups)
    if not groups:
        return []
    declared = _groups_table(_pyproject(root / PYPROJECT))
    found: list[str] = []
    for group in groups:
        found += _expand(declared, _normal(group), ())
    return list(dict.fromkeys(found))


def check_groups(root: Path) -> None:
    """Every declared group, selected or not, must expand: uv and pip read them all when they
    build the project, and would say "cycle" in their own words."""
    declared = _groups_table(_pyproject(root / PYPROJECT))
    for name in declared:
        _expand(declared, name, ())


def _expand(declared: dict[str, list[Any]], name: str, chain: tuple[str, ...]) -> list[str]:
    if name in chain:
        raise UsageError(f"pyproject.toml: [dependency-groups] {name!r} includes itself "
                         f"({' -> '.join([*chain, name])})", hint="remove the cycle")
    if len(chain) >= MAX_GROUP_DEPTH:
        raise UsageError(f"pyproject.toml: [dependency-groups] {chain[0]!r}: include-group "
                         f"chains more than {MAX_GROUP_DEPTH} deep",
                         hint="include the groups from fewer levels")
    found: list[str] = []
    for item in declared.get(name, []):
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            found += _expand(declared, _normal(item["include-group"]), (*chain, name))
    return found


def notes(root: Path, env_file_pip: bool, sources: Iterable[str],
          project_lock: str | None = None, lock_off: bool = False,
          pyves_pylock: bool = False) -> list[str]:
    """One line per project file pyve does not read (or reads only in part), saying what it
    reads instead; the project's lock it installs from (project_lock), or that pyve.toml
    turned it off (lock_off); pyves_pylock: the pylock.toml is the one pyve wrote
    (projectlock.is_pyves), not a note. Printed by init and status, shown by doctor."""
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
        if not (root / name).is_file() or (
                name == "pylock.toml" and pyves_pylock):
            continue
        if name == project_lock:
            continue  # not a note: the build's header and status name the lock in use
        if project_lock is not None and name in PROJECT_LOCKS:
            said.append(f"{name} found ({what}): pyve installs from {project_lock} instead")
        elif lock_off and PYPROJECT in sources and name in PROJECT_LOCKS:
            said.append(f"{name} found ({what}): pyve.toml says project_lock = false, so "
                        f"pyve resolves {' and '.join(sources)} itself")
        else:
            said.append(f"{name} found ({what}): pyve does not read it; it resolves "
                        f"{' and '.join(sources) or 'the project'} itself and writes its own "
                        "lock (see docs/backends.md to make them agree)")
    if env_file_pip and (root / ENV_FILE).is_file():
        left_out = _conda_packages(root)
        what = f" ({left_out})" if left_out else ""
        if ENV_FILE in sources:
            said.append(f"{ENV_FILE}: the venv backend installs its pip: section only; its "
                        f"conda packages{what} need `--backend micromamba`")
        elif left_out:
            said.append(f"{ENV_FILE}: the venv backend installs none of it (it has no pip: "
                        f"section); its conda packages{what} need `--backend micromamba`")
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
