"""The project: its root, the files pyve reads, pyve.toml, and pyve's .gitignore lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyve.errors import PyveError, UsageError
from pyve.fsutil import atomic_write_bytes, atomic_write_text
from pyve.projectroot import CONDA_FILES, CONFIG_FILE, PIP_FILES, STATE_DIR
from pyve.redact import excerpt

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

VENV_DIR = ".venv"
GITIGNORE_MARK = "# added by pyve (pyve purge removes these lines)"
GITIGNORE_LINES = (".venv/", ".pyve/")
CONFIG_KEYS = {"backend", "python", "install_deps", "installer", "conda_engine", "extras",
               "groups", "project_lock", "lock_environments", "python_downloads",
               "remote_cache", "remote_cache_push"}
LIST_KEYS = {"extras", "groups"}  # lists of names
# install_deps: true/false, or the comma-separated files the user agreed to install from
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "backend": (str,), "python": (str,), "install_deps": (bool, str), "installer": (str,),
    "conda_engine": (str,), "project_lock": (bool,), "python_downloads": (str,),
    "remote_cache": (str,), "remote_cache_push": (bool,)}
# python_downloads: may uv install a requested Python no interpreter found satisfies
PYTHON_DOWNLOADS = ("automatic", "never")

FILE_KINDS = {
    "environment.yml": "conda/micromamba",
    "conda-lock.yml": "conda/micromamba",
    "requirements.txt": "pip requirements",
    "requirements.in": "pip-tools requirements",
    "pyproject.toml": "Python project",
}


PIN_FILES = (".python-version", ".tool-versions")
# Other tools' locks of the project, which pyve installs from (projectlock.py), in the order
# it looks for them.
PROJECT_LOCKS = ("uv.lock", "pylock.toml", "pdm.lock", "poetry.lock")
# Files pyve reads only to say it does not read them (sources.notes).
NOTED_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "pylock.toml", "Pipfile",
               "setup.py", "setup.cfg")
# Every file of the project's that the decision reads (backend, Python, sources, notes), and
# .gitignore, which every build repairs: the fast path's snapshot stats each one.
DECISION_FILES = (CONFIG_FILE, *CONDA_FILES, *PIP_FILES, *PIN_FILES, *NOTED_FILES, ".gitignore")


@dataclass
class Project:
    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | None = None) -> Project:
        root = (root or Path.cwd()).absolute()
        return cls(root=root, config=read_config(root / CONFIG_FILE))

    def path(self, name: str) -> Path:
        return self.root / name

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    @property
    def conda_files(self) -> list[str]:
        return [f for f in CONDA_FILES if self.has(f)]

    @property
    def pip_files(self) -> list[str]:
        return [f for f in PIP_FILES if self.has(f)]

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def add_config(self, updates: dict[str, Any]) -> None:
        """Add settings pyve.toml does not have yet, keeping the file's own lines (comments,
        order) as they are; a file whose last table is not [pyve] is written anew."""
        path = self.root / CONFIG_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self.save_config(updates)
        headers = [ln.strip() for ln in data.splitlines() if ln.strip().startswith(b"[")]
        if headers and headers[-1] != b"[pyve]":
            return self.save_config(updates)
        eol = b"\r\n" if b"\r\n" in data else b"\n"
        if data and not data.endswith(b"\n"):
            data += eol
        added = [f"{k} = {json.dumps(v)}".encode() for k, v in updates.items()]
        atomic_write_bytes(path, data + eol.join(added) + eol)
        self.config = {**self.config, **updates}
        return None

    def save_config(self, updates: dict[str, Any]) -> None:
        self.config = {**self.config, **{k: v for k, v in updates.items() if v is not None}}
        write_config(self.root / CONFIG_FILE, self.config)


def read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{path.name}: invalid TOML: {exc}", hint=f"fix {path.name} or delete it"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(f"{path.name}: not UTF-8 text", hint=f"fix {path.name}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise UsageError(f"{path.name}: nested too deeply", hint=f"fix {path.name}") from None
    section = data.get("pyve", data)
    if not isinstance(section, dict):
        raise UsageError(f"{path.name}: pyve must be a table ([pyve]), not "
                         f"{excerpt(repr(section))}", hint=f"fix {path.name}")
    unknown = sorted(set(section) - CONFIG_KEYS - {"pyve"})
    if unknown:
        raise UsageError(
            f"{path.name}: unknown setting {excerpt(repr(unknown[0]))}",
            hint="valid settings: " + ", ".join(sorted(CONFIG_KEYS)),
        )
    for key in LIST_KEYS & set(section):
        value = section[key]
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise UsageError(f"{path.name}: {key} must be a list of names, not "
                             f"{excerpt(repr(value))}", hint=f'e.g. {key} = ["dev"]')
    if "lock_environments" in section:
        check_markers(section["lock_environments"], f"{path.name}: lock_environments",
                      'e.g. lock_environments = ["sys_platform == \'linux\'"]')
    for key, kinds in CONFIG_TYPES.items():
        if key in section and not isinstance(section[key], kinds):
            what = ("true or false" if kinds == (bool,) else
                    "true, false or a string" if bool in kinds else "a string")
            raise UsageError(f"{path.name}: {key} must be {what}, not "
                             f"{excerpt(repr(section[key]))}",
                             hint=f'quote it: {key} = "..."' if what == "a string" else None)
    downloads = section.get("python_downloads", "automatic")
    if downloads not in PYTHON_DOWNLOADS:
        raise UsageError(f"{path.name}: python_downloads must be \"automatic\" or \"never\", "
                         f"not {excerpt(repr(downloads))}", hint='e.g. python_downloads = "never"')
    return {k: v for k, v in section.items() if k in CONFIG_KEYS}


def check_markers(value: Any, where: str, example: str) -> list[str]:
    """A list of PEP 508 environment markers (the platforms a lock covers), or one error line
    naming `where` and the value that is not one."""
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise UsageError(f"{where} must be a list of PEP 508 markers, not "
                         f"{excerpt(repr(value))}", hint=example)
    from packaging.markers import InvalidMarker, Marker

    for marker in value:
        try:
            Marker(marker)
        except InvalidMarker:
            raise UsageError(f"{where}: {excerpt(repr(marker))} is not a PEP 508 marker",
                             hint=example) from None
    return list(value)


def write_config(path: Path, config: dict[str, Any]) -> None:
    lines = [
        "# pyve's decisions for this project: `pyve build` in a fresh clone makes the same env.",
        "# Commit this file. Edit it, or re-run `pyve init`, to change them.",
    ]
    for key in sorted(config):
        lines.append(f"{key} = {json.dumps(config[key])}")
    atomic_write_text(path, "\n".join(lines) + "\n")


GITIGNORE = ".gitignore"
# pyve made .gitignore (there was none): only then may purge delete it, when nothing but
# pyve's lines is left in it.
GITIGNORE_CREATED = f"{STATE_DIR}/created-gitignore"
# The bytes pyve put between the user's last line and its block (a final newline the file
# lacked, a blank line): purge takes out exactly those, so the file gets its bytes back.
GITIGNORE_JOINT = f"{STATE_DIR}/gitignore-joint"


def _gitignore_file(root: Path) -> Path | None:
    """The file pyve edits: .gitignore, or the file it links to (the link stays a link);
    None when that is not a regular file pyve can edit (a folder, a dangling link, ...)."""
    path = root / GITIGNORE
    if path.is_symlink():
        target = path.resolve()
        return target if target.is_file() else None
    if path.exists() and not path.is_file():
        return None
    return path


def gitignore_problem(root: Path) -> str | None:
    """One line saying why pyve left .gitignore alone, or None."""
    path = root / GITIGNORE
    if not (path.exists() or path.is_symlink()) or _gitignore_file(root) is not None:
        return None
    what = ("a symlink to no file" if path.is_symlink() else
            "a folder" if path.is_dir() else "not a regular file")
    return (f"{GITIGNORE} is {what}: pyve left it alone (ignore "
            f"{' and '.join(GITIGNORE_LINES)} yourself)")


def _gitignore_lines(data: bytes) -> list[bytes]:
    return [line.strip() for line in data.splitlines()]


def gitignore_has_block(root: Path) -> bool:
    path = _gitignore_file(root)
    try:
        return path is not None and GITIGNORE_MARK.encode() in _gitignore_lines(path.read_bytes())
    except OSError:
        return False


def ensure_gitignore(root: Path) -> list[str]:
    """Add pyve's lines once, below a marker; keep the user's lines, bytes, line endings and
    the file's mode (edited as bytes: a .gitignore need not be UTF-8)."""
    path = _gitignore_file(root)
    if path is None:
        return []
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError:
        return []  # unreadable: the user's to fix; it does not stop a build
    text = data or b""
    present = set(_gitignore_lines(text))
    missing = [line for line in GITIGNORE_LINES if line.encode() not in present]
    if not missing:
        return []
    eol = b"\r\n" if b"\r\n" in text else b"\n"
    block = eol.join([GITIGNORE_MARK.encode(), *(line.encode() for line in missing)]) + eol
    if text and not text.endswith(b"\n"):
        text += eol
    if text.strip() and not text.endswith(eol + eol):  # one blank line before the block
        text += eol
    # recorded first: a kill between the two never hides what pyve made or added
    if data is None:
        atomic_write_text(root / GITIGNORE_CREATED, "pyve created .gitignore\n")
    atomic_write_bytes(root / GITIGNORE_JOINT, text[len(data or b""):])
    atomic_write_bytes(path, text + block)
    return missing


def remove_gitignore_lines(root: Path) -> list[str]:
    """Remove the marker block that ensure_gitignore wrote, and nothing else. The file goes
    only if pyve created it and nothing else is left in it."""
    path = _gitignore_file(root)
    try:
        lines = path.read_bytes().splitlines(keepends=True) if path else []
    except OSError:
        return []
    if path is None:
        return []
    stripped = [line.strip() for line in lines]
    if GITIGNORE_MARK.encode() not in stripped:
        return []
    start = stripped.index(GITIGNORE_MARK.encode())
    end = start + 1
    ours = {line.encode() for line in GITIGNORE_LINES}
    while end < len(lines) and stripped[end] in ours:
        end += 1
    removed = [line.decode() for line in stripped[start + 1 : end]]
    joint = _recorded_joint(root)
    before = b"".join(lines[:start])
    if end == len(lines) and joint is not None and before.endswith(joint):
        kept = [before[:len(before) - len(joint)]]  # the block was last: the exact bytes back
        start = 0
    else:
        kept = lines[:start] + lines[end:]
    while start > 0 and kept and start <= len(kept) and not kept[start - 1].strip() and (
        start == len(kept) or not kept[start].strip()
    ):
        kept.pop(start - 1)  # the blank line we put before our block
        start -= 1
    created = (root / GITIGNORE_CREATED).is_file() and path == root / GITIGNORE
    if created and not any(line.strip() for line in kept) and not git_tracks(root, GITIGNORE):
        path.unlink()  # we created it; nothing of the user's is left in it
    else:
        atomic_write_bytes(path, b"".join(kept))
    (root / GITIGNORE_JOINT).unlink(missing_ok=True)
    return removed


def _recorded_joint(root: Path) -> bytes | None:
    try:
        joint = (root / GITIGNORE_JOINT).read_bytes()
    except OSError:
        return None  # written by a pyve before the record, or .pyve/ was removed
    return joint if joint.strip(b"\r\n") == b"" else None


def git_tracks(root: Path, name: str) -> bool:
    """Whether git tracks `name` (in `root`): a committed file (a teammate's .envrc) is never
    pyve's to delete, even when it reads as what pyve writes. False without git or outside a
    repository; True when git cannot say (a file is kept, never removed, on a doubt)."""
    git = shutil.which("git")
    if git is None:
        return False
    try:
        result = subprocess.run([git, "-C", str(root), "ls-files", "--error-unmatch", "--", name],
                                capture_output=True, timeout=30, check=False,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return True
    if result.returncode == 0:
        return True
    # 1: not tracked; 128: not a repository (or git refused it: then keep the file)
    return result.returncode != 1 and b"not a git repository" not in result.stderr.lower()


def read_python_pin(root: Path) -> tuple[str, str] | None:
    """The project's own Python pin: (spec, where it came from)."""
    pv = root / ".python-version"
    if pv.is_file():
        for line in _pin_text(pv).splitlines():
            if line.strip() and not line.startswith("#"):
                return line.strip(), ".python-version"
    tv = root / ".tool-versions"
    if tv.is_file():
        for line in _pin_text(tv).splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "python":
                return parts[1], ".tool-versions"
    pp = root / "pyproject.toml"
    if pp.is_file():
        try:
            data = tomllib.loads(_pin_text(pp))
        except tomllib.TOMLDecodeError as exc:
            raise PyveError(
                f"pyproject.toml: invalid TOML: {exc}", hint="fix pyproject.toml"
            ) from None
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            raise PyveError("pyproject.toml: nested too deeply",
                            hint="fix pyproject.toml") from None
        table = data.get("project")  # `project = 1` is valid TOML, not a table
        req = table.get("requires-python") if isinstance(table, dict) else None
        if isinstance(req, str) and req.strip():
            return req.strip(), "requires-python in pyproject.toml"
    return None


def _pin_text(path: Path) -> str:
    """A pin file's text; one line for a file that is not UTF-8, never a traceback."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path.name}: not UTF-8 text", hint=f"fix {path.name}") from None
