"""The project file `pyve add` and `pyve remove` edit, and the edit itself (one module per
kind of file: requirements.py, pyproject.py, envyml.py). Which file it is follows from the
decision: the pip sources pyve installs, and whether the backend reads environment.yml's
conda packages itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyve import buildmeta
from pyve.decision import Decision
from pyve.errors import UsageError
from pyve.fsutil import atomic_write_bytes
from pyve.manifest import envyml, pyproject, requirements
from pyve.sources import ENV_FILE, PIP_TOOLS_SOURCE, PYPROJECT, REQUIREMENTS, project_table


@dataclass(frozen=True)
class Target:
    """Where a requirement goes: a file and the place in it."""

    file: str
    place: pyproject.Place = pyproject.Place()  # pyproject.toml only
    pip: bool = True  # environment.yml: its pip: section (else its conda dependencies)
    # requirements.in next to the requirements.txt compiled from it: the line goes in both
    # (pyve installs the .txt; pip-compile makes it again from the .in)
    compiled: str | None = None

    def describe(self) -> str:
        if self.file == PYPROJECT:
            return f"{self.place.describe()} of {PYPROJECT}"
        if self.file == ENV_FILE:
            return f"the {'pip: section' if self.pip else 'dependencies'} of {ENV_FILE}"
        return self.file

    def files(self) -> list[str]:
        return [self.file, *([self.compiled] if self.compiled else [])]


def choose(root: Path, decision: Decision, conda_env_file: bool, extra: str | None = None,
           group: str | None = None, pip: bool = False) -> Target:
    """conda_env_file: the backend installs environment.yml's conda packages (so a bare
    `pyve add numpy` is a conda spec there). Rules, first match: --extra/--group:
    pyproject.toml; --pip: environment.yml's pip: section; the conda backend with an
    environment.yml: its dependencies; pyproject.toml with a [project] table (as `uv add`);
    requirements.in/requirements.txt as pyve installs them; environment.yml's pip: section
    (the venv backend); else a new requirements.txt."""
    found = (*decision.pip_sources, *decision.skipped_sources)
    if extra or group:
        if not (root / PYPROJECT).is_file():
            raise UsageError(f"--{'extra' if extra else 'group'} needs a {PYPROJECT}",
                             hint="make one, or add the requirement without it")
        return _pyproject_target(root, pyproject.Place(extra=extra, group=group))
    if pip or (conda_env_file and (root / ENV_FILE).is_file()):
        if not (root / ENV_FILE).is_file():
            raise UsageError(f"--pip edits the pip: section of {ENV_FILE}, which this "
                             "project does not have", hint="add without --pip")
        return Target(ENV_FILE, pip=pip)
    if PYPROJECT in found and project_table(root / PYPROJECT) is not None:
        return _pyproject_target(root, pyproject.Place())
    if REQUIREMENTS in found:
        has_source = (root / PIP_TOOLS_SOURCE).is_file()
        return Target(PIP_TOOLS_SOURCE, compiled=REQUIREMENTS) if has_source \
            else Target(REQUIREMENTS)
    if PIP_TOOLS_SOURCE in found:
        return Target(PIP_TOOLS_SOURCE)
    if ENV_FILE in found:
        return Target(ENV_FILE)
    return Target(REQUIREMENTS)


def _pyproject_target(root: Path, place: pyproject.Place) -> Target:
    """pyproject.toml's place, or, when the build backend fills it from a requirements file
    ([tool.setuptools.dynamic], hatch-requirements-txt), that file: where the build reads it.
    A dynamic field with no such file in the project is refused: pyve cannot edit it."""
    data = buildmeta.load(root / PYPROJECT) or {}
    project = data.get("project")
    dynamic = project.get("dynamic") if isinstance(project, dict) else None
    field = "optional-dependencies" if place.extra else "dependencies"
    if place.group or not isinstance(dynamic, list) or field not in dynamic:
        return Target(PYPROJECT, place)
    what = f"optional-dependencies.{place.extra}" if place.extra else "dependencies"
    named = [(file, where) for file, where in buildmeta.dynamic_files(data)
             if _fills(where, place.extra)]
    if not named:
        raise UsageError(f"{PYPROJECT}: [project] {what} are dynamic (the build backend "
                         "makes them) and no requirements file is named for them "
                         "([tool.setuptools.dynamic] or hatch-requirements-txt): pyve "
                         "cannot edit them",
                         hint="add the requirement where the build backend reads it")
    file, where = named[0]
    path = root / file
    inside = path.resolve().is_relative_to(root.resolve())
    if not inside or not path.is_file():
        said = "the default of hatch-requirements-txt" if where == buildmeta.DEFAULT_FILE \
            else where
        raise UsageError(f"{PYPROJECT}: [project] {what} are dynamic, read from {file} "
                         f"({said}), which is {'not a file in' if inside else 'outside'} "
                         "the project: pyve cannot edit them",
                         hint=f"make {file} in the project, or add the requirement where "
                              "the build backend reads it")
    return Target(Path(file).as_posix(), place)


def _fills(where: str, extra: str | None) -> bool:
    """Is `where` (buildmeta.dynamic_files' words) the table of `dependencies`, or of
    this extra?"""
    if extra is None:
        return where == buildmeta.DEFAULT_FILE or where.endswith((" dependencies", " files"))
    _, dot, name = where.rpartition("optional-dependencies.")
    return bool(dot) and buildmeta.normal(name) == buildmeta.normal(extra)


def _read(path: Path) -> str:
    if not path.is_file():
        return ""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path.name}: not UTF-8 text", hint=f"save {path.name} as UTF-8"
                         ) from None


def names(root: Path, target: Target) -> dict[str, str]:
    """canonical name -> the requirement as written, in the target's place."""
    text = _read(root / target.file)
    if target.file == PYPROJECT:
        return pyproject.names(text, target.place)
    if target.file == ENV_FILE:
        return envyml.names(text, target.pip)
    return requirements.names(text)


def name_of(target: Target, spec: str) -> str:
    """The spec's name as the target file compares names (a conda name, or PEP 503)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in spec):  # `idna\nsix` would be two lines
        raise UsageError(f"{spec[:40]!r} is not one requirement: it has a line break or "
                         "a control character", hint="give each requirement as its own "
                         "argument: `pyve add idna six`")
    if target.file == ENV_FILE and not target.pip:
        from pyve.backends.conda.envfile import conda_spec_name, matchspec_problem

        problem = matchspec_problem(spec)
        if problem:
            raise UsageError(f"{spec!r} is not a conda spec: {problem}",
                             hint="e.g. `numpy` or `numpy>=1.26`")
        return conda_spec_name(spec)
    return requirements.check_spec(spec, target.file)


def add(root: Path, target: Target, spec: str) -> None:
    for name in target.files():
        path = root / name
        text = _read(path)
        if name == PYPROJECT:
            new = pyproject.add(text, target.place, spec)
        elif name == ENV_FILE:
            new = envyml.add(text, spec, target.pip)
        else:
            new = requirements.add(text, spec)
        atomic_write_bytes(path, new.encode("utf-8"))


def remove(root: Path, target: Target, name: str) -> None:
    for file in target.files():
        path = root / file
        text = _read(path)
        if file == PYPROJECT:
            new = pyproject.remove(text, target.place, name)
        elif file == ENV_FILE:
            new = envyml.remove(text, name, target.pip)
        else:
            new = requirements.remove(text, name)
        if new != text:
            atomic_write_bytes(path, new.encode("utf-8"))
