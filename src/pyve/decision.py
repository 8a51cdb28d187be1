"""What to build: backend, Python, dependency sources -- pure data, decided before any output.

Precedence for the backend: --backend > PYVE_BACKEND > pyve.toml > the project's files.
Only the "both kinds of files" case needs the user; `choose_backend` says so and the command asks.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pyve.errors import UsageError

BACKENDS = ("venv", "micromamba")
BACKEND_ALIASES = {"conda": "micromamba", "mamba": "micromamba"}


@dataclass(frozen=True)
class BackendChoice:
    backend: str | None  # None: ambiguous, the user must be asked (default micromamba)
    reason: str
    conda_files: tuple[str, ...] = ()
    pip_files: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.backend is None


def normalize_backend(name: str, where: str) -> str | None:
    """Validate a backend name; 'auto' -> None (decide from files)."""
    value = name.strip().lower()
    if value == "auto":
        return None
    value = BACKEND_ALIASES.get(value, value)
    if value not in BACKENDS:
        close = difflib.get_close_matches(value, [*BACKENDS, "auto"], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(
            f"invalid backend {name!r} in {where}",
            hint=f"{hint}valid backends: venv, micromamba, auto",
        )
    return value


def choose_backend(
    cli: str | None,
    env: str | None,
    recorded: str | None,
    conda_files: list[str],
    pip_files: list[str],
    reinit: bool = False,
) -> BackendChoice:
    """reinit (`pyve init`): a recorded micromamba whose conda files are all gone no longer
    holds -- removing environment.yml is how the Backends Guide says to go back to venv."""
    files = (tuple(conda_files), tuple(pip_files))
    void = ""
    for value, where in ((cli, "--backend"), (env, "PYVE_BACKEND"), (recorded, "pyve.toml")):
        if value:
            backend = normalize_backend(value, where)
            if backend == "micromamba" and where == "pyve.toml" and reinit and not conda_files:
                void = "pyve.toml said micromamba, but no conda file is left; "
                break
            if backend:
                return BackendChoice(backend, f"{where} says {backend}", *files)
            break  # "auto": decide from the files, whatever lower levels say
    if conda_files and pip_files:
        return BackendChoice(None, "both conda and pip files found", *files)
    if conda_files:
        return BackendChoice("micromamba", f"{conda_files[0]} found", *files)
    if pip_files:
        return BackendChoice("venv", f"{void}{pip_files[0]} found", *files)
    return BackendChoice("venv", f"{void}no project files found (default)", *files)


def resolve_ambiguous(choice: BackendChoice, use_micromamba: bool, how: str) -> BackendChoice:
    backend = "micromamba" if use_micromamba else "venv"
    return BackendChoice(backend, how, choice.conda_files, choice.pip_files)


@dataclass(frozen=True)
class Asked:
    """What the command line asked for, as plain values (commands/common.py reads them off
    argparse's Namespace; nothing below the commands sees the Namespace)."""

    backend: str | None = None  # --backend
    python: str | None = None  # --python or init's VERSION
    yes: bool = False  # --yes
    reinit: bool = False  # the command is `pyve init`
    install_deps: bool | None = None  # --auto-install-deps (True), --no-install-deps (False)
    frozen: bool = False  # --frozen
    exact: bool = False  # --exact


@dataclass(frozen=True)
class Decision:
    """Everything the task graph needs. Built once per command; never printed while built."""

    backend: str
    backend_reason: str
    python_version: str  # X.Y.Z actually used
    python_path: str
    python_reason: str
    python_request: str | None  # what was asked for, recorded in pyve.toml
    pip_sources: tuple[str, ...] = ()  # files whose pip dependencies we install
    skipped_sources: tuple[str, ...] = ()  # found, but the user said no
    installer: str = "uv"  # or "pip" (installers/)
    frozen: bool = False  # install from the existing locks only; never re-solve
    exact: bool = False  # also remove what was installed by hand (a mode, like frozen)
    extras: tuple[str, ...] = ()  # pyve.toml: extras of the project itself
    groups: tuple[str, ...] = ()  # pyve.toml: PEP 735 dependency groups
    notes: tuple[str, ...] = ()  # project files pyve does not read, in words (sources.notes)
    answered: tuple[str, ...] = ()  # the pyve.toml settings a prompt decided (to record them)
    project_lock: str | None = None  # the project's own lock pyve installs from (projectlock)
    python_source: str = ""  # pyenv, asdf, uv-managed, PATH, running: where it came from

    @property
    def input_sources(self) -> tuple[str, ...]:
        """What the install reads: the sources, and the project's lock (reqfiles.py)."""
        return (*self.pip_sources, *((self.project_lock,) if self.project_lock else ()))

    @property
    def python_minor(self) -> str:
        """3.11 of 3.11.7: the name of the env's lib/pythonX.Y."""
        return ".".join(self.python_version.split(".")[:2])

    def as_dict(self) -> dict[str, Any]:  # JSON values, for --json documents
        return {
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "python": self.python_version,
            "python_path": self.python_path,
            "python_reason": self.python_reason,
            "python_source": self.python_source,
            "pip_sources": list(self.pip_sources),
            "extras": list(self.extras),
            "groups": list(self.groups),
            "installer": self.installer,
            "project_lock": self.project_lock,
        }
