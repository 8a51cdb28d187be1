"""Which folder is the project, found from wherever pyve starts, as git and uv find theirs:
the nearest folder (the start itself or a parent) that pyve has initialised or built
(`pyve.toml`, `.pyve/`); where there is none, the nearest with a project file
(requirements.txt, pyproject.toml, environment.yml, ...): a project before `pyve init`.

The walk never goes past the user's home (home itself counts only when pyve initialised it
or pyve starts there: a stray ~/requirements.txt is no project) nor into a parent on another
file system (st_dev changes: a mount point, as git's discovery stops).

Only `os` and stat calls: the fast path (fastpath.py) walks here before it reads its
snapshot, so the fast and the full path always agree on the folder."""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # not typing's: the fast path imports this module
if TYPE_CHECKING:
    from collections.abc import Iterator

CONFIG_FILE = "pyve.toml"
STATE_DIR = ".pyve"
CONDA_FILES = ("environment.yml", "conda-lock.yml")
PIP_FILES = ("requirements.txt", "requirements.in", "pyproject.toml")
PROJECT_FILES = (*CONDA_FILES, *PIP_FILES)


def _is(path: str, kind: int) -> bool:
    try:
        return stat.S_IFMT(os.stat(path).st_mode) == kind
    except (OSError, ValueError):
        return False


def _home() -> str:
    home = os.environ.get("HOME")
    return os.path.realpath(home) if home else ""


def _walk(start: str) -> Iterator[str]:
    """`start`, then its parents up to home (included) or a file-system boundary (not
    crossed); lazily: most walks stop at the first folder."""
    here = start
    home = device = None
    while True:
        yield here
        if home is None:  # only once the walk goes up: a project's root stats one file
            home = _home()
        if here == home:
            return
        parent = os.path.dirname(here)
        if parent == here:
            return
        try:
            if device is None:
                device = os.stat(here).st_dev
            if os.stat(parent).st_dev != device:
                return
        except OSError:
            return
        here = parent


def made_by_pyve(folder: str) -> bool:
    return (_is(f"{folder}/{CONFIG_FILE}", stat.S_IFREG)
            or _is(f"{folder}/{STATE_DIR}", stat.S_IFDIR))


def has_project_file(folder: str) -> bool:
    return any(_is(f"{folder}/{name}", stat.S_IFREG) for name in PROJECT_FILES)


def initialised(start: str) -> str | None:
    """The nearest folder pyve initialised or built (where its fast-path snapshot lives)."""
    for folder in _walk(start):
        if made_by_pyve(folder):
            return folder
    return None


def find(start: str, above: bool = False) -> str | None:
    """The project's folder for a command started in `start` (an absolute, real path);
    None when there is none. above: only a parent's (the project `start` lies inside)."""
    for folder in _walk(start):
        if made_by_pyve(folder) and not (above and folder == start):
            return folder
    home = _home()
    for folder in _walk(start):
        if folder == home and folder != start:
            return None  # home is a project only once pyve made it one, or from home itself
        if has_project_file(folder) and not (above and folder == start):
            return folder
    return None
