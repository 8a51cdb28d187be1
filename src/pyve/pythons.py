"""Find Python interpreters (pyenv, asdf, uv's managed Pythons, pythonX.Y on PATH, the running
one) and pick one; a backend may install the one that is missing (`install`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyve.envbins import is_env_bin
from pyve.errors import PyveError, UsageError
from pyve.offline import is_offline
from pyve.project import Project, read_python_pin
from pyve.redact import excerpt

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

# packaging is imported where versions are compared: a build that uses the running
# interpreter never needs it, and it costs a third of a no-op build.

_VERSION_DIR = re.compile(r"^\d+\.\d+\.\d+$")
MAX_REQUEST = 100
_REQUEST = re.compile(r"^(?:python|cpython)?-?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


@dataclass(frozen=True)
class Interpreter:
    version: str  # X.Y.Z
    path: str  # the executable
    source: str  # pyenv, asdf, uv-managed, PATH, running

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def _version_dirs(root: Path, source: str) -> list[Interpreter]:
    found = []
    if root.is_dir():
        for child in root.iterdir():
            exe = child / "bin" / "python"
            if _VERSION_DIR.match(child.name) and exe.exists():
                found.append(Interpreter(child.name, str(exe), source))
    return found


def uv_python_dir() -> Path:
    """Where uv keeps its managed Pythons (`uv python dir`), read without running uv."""
    if os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(os.environ["UV_PYTHON_INSTALL_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


_UV_MANAGED = re.compile(r"^cpython-(\d+)\.(\d+)\.(\d+)-[^+]*$")  # no +freethreaded, no 3.13


def _uv_managed() -> list[Interpreter]:
    found = []
    root = uv_python_dir()
    if root.is_dir():
        for child in root.iterdir():
            match = _UV_MANAGED.match(child.name)
            exe = child / "bin" / f"python{match.group(1)}.{match.group(2)}" if match else None
            if match and exe is not None and exe.exists() and not child.is_symlink():
                found.append(Interpreter(".".join(match.groups()), str(exe), "uv-managed"))
    return found


class PythonNotFound(PyveError):
    """No interpreter found satisfies the request: the message lists the versions found."""

    def __init__(self, request: str, versions: str) -> None:
        super().__init__(
            f"Python {request} is not installed (found: {versions})",
            hint=f"install it, e.g. `pyenv install {request}`, or choose one of the versions "
                 "found",
        )
        self.request = request
        self.versions = versions


def downloads_allowed(project: Project) -> bool:
    """May a missing Python be downloaded? pyve.toml's python_downloads, PYVE_PYTHON_DOWNLOADS,
    and uv's own UV_PYTHON_DOWNLOADS (its `manual` means no download on demand either);
    never under --offline."""
    if is_offline():
        return False
    for value in (os.environ.get("PYVE_PYTHON_DOWNLOADS"),
                  project.config.get("python_downloads"), os.environ.get("UV_PYTHON_DOWNLOADS")):
        if value and str(value).strip().lower() in ("never", "manual", "0", "false"):
            return False
    return True


def probe(exe: str) -> str | None:
    try:
        result = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = result.stdout.strip()
    return out if result.returncode == 0 and _VERSION_DIR.match(out) else None


def _searchable(directory: str) -> bool:
    """pyenv shims re-dispatch through pyenv: the pyenv source already lists those, and a
    shim first on PATH must not hide a python3.X further on (e.g. /usr/bin/python3.11).
    An activated env's bin is skipped too (see pyve.envbins)."""
    return bool(directory) and "shims" not in Path(directory).parts and not is_env_bin(directory)


def _on_path() -> list[Interpreter]:
    found = []
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if _searchable(d)]
    for minor in range(8, 15):
        exe = shutil.which(f"python3.{minor}", path=os.pathsep.join(dirs))
        if exe:
            version = probe(exe)
            if version:
                found.append(Interpreter(version, exe, "PATH"))
    return found


def running() -> Interpreter:
    """The interpreter running pyve -- its base installation when pyve runs inside a venv."""
    exe = sys.executable
    if sys.prefix != sys.base_prefix:
        name = "python{}.{}".format(*sys.version_info[:2])
        base = Path(sys.base_prefix) / "bin" / name
        exe = str(base) if base.exists() else os.path.realpath(exe)
    return Interpreter("{}.{}.{}".format(*sys.version_info[:3]), exe, "running")


def discover() -> list[Interpreter]:
    """Every interpreter found, newest first (duplicates by real path removed)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    asdf = Path(os.environ.get("ASDF_DATA_DIR") or Path.home() / ".asdf") / "installs" / "python"
    candidates = [
        *_version_dirs(pyenv, "pyenv"),
        *_version_dirs(asdf, "asdf"),
        *_uv_managed(),
        *_on_path(),
        running(),
    ]
    seen: set[str] = set()
    unique = []
    for interp in candidates:
        key = os.path.realpath(interp.path)
        if key not in seen:
            seen.add(key)
            unique.append(interp)
    from packaging.version import Version

    return sorted(unique, key=lambda i: Version(i.version), reverse=True)


def parse_request(text: str) -> SpecifierSet:
    """'3.11' -> newest 3.11.x; '3.11.7' -> exactly; '>=3.10' -> a range (requires-python)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = text.strip()
    if len(text) > MAX_REQUEST:  # a range like ">=3.10,<3.14,!=3.12.1" is far shorter
        raise UsageError(f"invalid Python version {excerpt(text)!r}: longer than "
                         f"{MAX_REQUEST} characters", hint="use a version like 3.11 or 3.11.7")
    match = _REQUEST.match(text)
    if match:
        parts = [p for p in match.groups() if p is not None]
        if len(parts) == 1:
            return SpecifierSet(f"=={parts[0]}.*")
        return SpecifierSet(f"=={'.'.join(parts)}" + (".*" if len(parts) == 2 else ""))
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise UsageError(
            f"invalid Python version {text!r}",
            hint="use a version like 3.11 or 3.11.7",
        ) from None


Install = Callable[[str, PythonNotFound], Interpreter]


def select(request: str, interpreters: list[Interpreter] | None = None,
           install: Install | None = None) -> Interpreter:
    """install: what to do when none satisfies the request (else the error names those found)."""
    from packaging.version import InvalidVersion, Version

    spec = parse_request(request)
    interpreters = discover() if interpreters is None else interpreters
    for interp in interpreters:  # newest first
        try:
            if Version(interp.version) in spec:
                return interp
        except InvalidVersion:
            continue
    versions = ", ".join(sorted({i.version for i in interpreters}, key=Version)) or "none"
    missing = PythonNotFound(request, versions)
    if install is None:
        raise missing
    return install(request, missing)


def choose(project: Project, asked: str | None, install: Install | None = None
           ) -> tuple[Interpreter, str, str | None]:
    """(interpreter, why, request to record in pyve.toml): asked > pyve.toml > a pin file
    (.python-version, ...) > the Python running pyve."""
    if asked:
        return select(asked, install=install), f"asked for {asked}", asked
    recorded = project.config.get("python")
    if recorded:
        return select(str(recorded), install=install), f"pyve.toml says {recorded}", None
    pin = read_python_pin(project.root)
    if pin:
        spec, where = pin
        return select(spec, install=install), f"{where} says {spec}", None
    current = running()
    return current, "the Python running pyve (no pin found)", current.minor
