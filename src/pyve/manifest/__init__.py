"""The project file `pyve add` and `pyve remove` edit, and the edit itself (one module per
kind of file: requirements.py, pyproject.py, envyml.py). Which file it is follows from the
decision: the pip sources pyve installs, and whether the backend reads environment.yml's
conda packages itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
        return Target(PYPROJECT, pyproject.Place(extra=extra, group=group))
    if pip or (conda_env_file and (root / ENV_FILE).is_file()):
        if not (root / ENV_FILE).is_file():
            raise UsageError(f"--pip edits the pip: section of {ENV_FILE}, which this "
                             "project does not have", hint="add without --pip")
        return Target(ENV_FILE, pip=pip)
    if PYPROJECT in found and project_table(root / PYPROJECT) is not None:
        return Target(PYPROJECT)
    if REQUIREMENTS in found:
        has_source = (root / PIP_TOOLS_SOURCE).is_file()
        return Target(PIP_TOOLS_SOURCE, compiled=REQUIREMENTS) if has_source \
            else Target(REQUIREMENTS)
    if PIP_TOOLS_SOURCE in found:
        return Target(PIP_TOOLS_SOURCE)
    if ENV_FILE in found:
        return Target(ENV_FILE)
    return Target(REQUIREMENTS)


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
