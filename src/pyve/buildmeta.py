"""What a build backend reads of a project besides its `[project]` table.

- setuptools' `[tool.setuptools.dynamic]` and hatch-requirements-txt's
  `[tool.hatch.metadata.hooks.requirements_txt]` fill `dependencies` and extras from
  requirements files: those files decide the install as much as pyproject.toml does.
  (pdm-backend and flit_core have no such directive: pdm makes only `version` dynamic,
  flit `version` and `description`.)
- A build of a local folder (`./lib` in requirements.txt, not editable) reads its source
  files: every one of them decides what gets installed.
- Of pyproject.toml, an install reads `[build-system]`, `[project]`, `[dependency-groups]`
  and the tool tables of the build backend, its plugins and the installer; a change to
  `[tool.ruff]` or `[tool.pytest.ini_options]` changes nothing installed (`install_view`).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

# Folders a build does not read (VCS, build output, caches, environments, pyve's own).
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "build", "dist", "__pycache__", ".venv",
                          "venv", ".tox", ".nox", "node_modules", ".eggs", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", ".pyve"})
# pyve's own outputs, when the local folder is the project itself (`.` in requirements.txt):
# an input that a later stage writes would make the install stale after every build
PYVE_OUTPUTS = frozenset({"requirements.lock.txt", "conda-lock.yml"})
# Tool tables an install can read whatever the build backend: the backends pyve knows and
# their plugins' usual homes, the installers (uv reads [tool.uv] sources and indexes), pyve.
DEFAULT_FILE = "(hatch-requirements-txt's default)"
INSTALL_TOOLS = ("setuptools", "setuptools-scm", "distutils", "hatch", "pdm", "flit",
                 "poetry", "uv", "pyve", "scikit-build", "maturin", "meson-python")


def load(path: Path) -> dict[str, Any] | None:
    """A pyproject.toml as data; None when it is missing or not valid TOML (whoever reads it
    for real names the error)."""
    from pyve.project import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def normal(name: str) -> str:
    """PEP 503 / PEP 685 normalisation of a project, extra or group name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _table(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _names(value: Any) -> list[str]:
    """`file = "a.txt"` or `file = ["a.txt", "b.txt"]`."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def dynamic_files(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(file, where it is named) for every requirements file the build backend reads for
    `dependencies` or an extra; paths are relative to the project's folder. A file of
    `DEFAULT_FILE`'s kind (named by no one) may be absent."""
    found: list[tuple[str, str]] = []
    setuptools = _table(data, "tool", "setuptools", "dynamic")
    where = "pyproject.toml [tool.setuptools.dynamic]"
    for name in _names(_table(setuptools, "dependencies").get("file")):
        found.append((name, f"{where} dependencies"))
    for extra, spec in _table(setuptools, "optional-dependencies").items():
        for name in _names(_table(spec).get("file")):
            found.append((name, f"{where} optional-dependencies.{extra}"))
    hook = _table(data, "tool", "hatch", "metadata", "hooks")
    if "requirements_txt" in hook:
        hatch = _table(hook, "requirements_txt")
        where = "pyproject.toml [tool.hatch.metadata.hooks.requirements_txt]"
        if "files" not in hatch:  # the plugin then reads requirements.txt, if there is one
            found.append(("requirements.txt", DEFAULT_FILE))
        for name in _names(hatch.get("files")):
            found.append((name, f"{where} files"))
        for extra, files in _table(hatch, "optional-dependencies").items():
            for name in _names(files):
                found.append((name, f"{where} optional-dependencies.{extra}"))
    return found


def declared_extras(data: dict[str, Any]) -> set[str] | None:
    """The project's extras, normalised (PEP 685); None when the build backend computes
    them in a way pyve cannot read (then any name may exist)."""
    project = _table(data, "project")
    extras = {normal(k) for k in _table(project, "optional-dependencies")}
    extras |= {normal(k) for k in _table(data, "tool", "setuptools", "dynamic",
                                          "optional-dependencies")}
    extras |= {normal(k) for k in _table(data, "tool", "hatch", "metadata", "hooks",
                                          "requirements_txt", "optional-dependencies")}
    dynamic = project.get("dynamic")
    if not extras and isinstance(dynamic, list) and "optional-dependencies" in dynamic:
        return None
    return extras


def project_name(directory: Path) -> str | None:
    """A local project's name, normalised: pyproject's [project] name, else setup.cfg's
    [metadata] name; None when only running its build would tell (setup.py)."""
    name = _table(load(directory / "pyproject.toml"), "project").get("name")
    if not isinstance(name, str):
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(directory / "setup.cfg", encoding="utf-8")
            name = parser.get("metadata", "name", fallback=None)
        except (configparser.Error, UnicodeDecodeError):
            name = None
    return normal(name) if isinstance(name, str) and name.strip() else None


# --- what a build of a local folder reads ---------------------------------------------------

def source_files(directory: Path) -> list[Path]:
    """The files a build of `directory` reads: what git lists (tracked, and new files not
    ignored) in a git checkout, else every file; never VCS, build or cache folders."""
    listed = _git_files(directory)
    if listed is None:
        listed = _walk(directory)
    found = []
    for rel in listed:
        parts = rel.split("/")
        if any(p in SKIPPED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        if len(parts) == 1 and parts[0] in PYVE_OUTPUTS:
            continue
        path = directory / rel
        if path.is_file():  # a file git still lists but that was deleted is no input
            found.append(path)
    return sorted(found)


def _git_files(directory: Path) -> list[str] | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None  # no git: every file
    if done.returncode != 0:
        return None  # not a git checkout
    return sorted({p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def _walk(directory: Path) -> list[str]:
    found = []
    for top, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        rel = Path(top).relative_to(directory)
        found += [(rel / name).as_posix() for name in files]
    return found


# --- what an install reads of pyproject.toml --------------------------------------------------

def install_view(data: dict[str, Any]) -> dict[str, Any] | None:
    """The part of pyproject.toml an install can read: every table but `[tool]`, and of
    `[tool]` the build backend's, its plugins' (a tool named like a build requirement:
    `[tool.setuptools_scm]` for `setuptools-scm`), the installers' and pyve's. None (the
    whole file counts) when the build backend is the project's own code (`backend-path`),
    which may read any table."""
    build = _table(data, "build-system")
    if "backend-path" in build:
        return None
    requires = [normal(re.split(r"[\s<>=!~;\[(@]", r, maxsplit=1)[0])
                for r in build.get("requires", []) if isinstance(r, str)]
    kept = {k: v for k, v in data.items() if k != "tool"}
    tools = data.get("tool")
    if isinstance(tools, dict):
        read = {name: value for name, value in tools.items()
                if _install_tool(normal(name), requires)}
        if read:  # (no [tool] table and one of only [tool.ruff] read the same)
            kept["tool"] = read
    elif tools is not None:
        kept["tool"] = tools
    return kept


def _install_tool(name: str, requires: list[str]) -> bool:
    for known in (*INSTALL_TOOLS, *requires):
        if name == known or name.startswith(known + "-") or known.startswith(name + "-"):
            return True
    return False
