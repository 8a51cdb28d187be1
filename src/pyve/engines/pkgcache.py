"""The shared conda package cache ($PYVE_CACHE_DIR, else ~/.cache/pyve/pkgs).

pyve marks the folder as its cache when it creates it (a standard CACHEDIR.TAG plus pyve's
own marker), and `pyve cache clean` empties only a folder so marked -- and in it only what
it recognises as packages: extracted package folders (with info/index.json), their `.lock`
files, package archives, and pyve's own download folders (`.pyve-fetch-*`).

A folder pyve did not make is never changed (not its mode, not its files): PYVE_CACHE_DIR
naming an existing folder without pyve's marker (`/tmp`, a team's shared folder) means
pyve's own marked subfolder in it, `<dir>/pyve-pkgs`.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text, remove, user_cache_dir

TAG = "CACHEDIR.TAG"
TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by pyve (conda package cache).\n"
            "# For information about cache directory tags see https://bford.info/cachedir/\n")
MARKER = ".pyve-package-cache"
ARCHIVE = re.compile(r".+\.(conda|tar\.bz2)$")
STAGING_PREFIX = ".pyve-fetch-"  # where pyve downloads and checks packages before use


CHECKED = ".pyve-checked"  # a stamp per cache entry whose archive and paths pyve checked

SUBFOLDER = "pyve-pkgs"  # pyve's cache inside a PYVE_CACHE_DIR folder it did not make


def default_cache_dir() -> Path:
    """$PYVE_CACHE_DIR, else $XDG_CACHE_HOME/pyve/pkgs, else ~/.cache/pyve/pkgs; where that
    names a folder pyve did not make, pyve's subfolder in it (`own_part`)."""
    if os.environ.get("PYVE_CACHE_DIR"):
        return own_part(Path(os.environ["PYVE_CACHE_DIR"]))
    return own_part(user_cache_dir() / "pkgs")


def own_part(folder: Path) -> Path:
    """`folder` when it is pyve's cache or does not exist yet (pyve will make it); else the
    subfolder pyve makes in it, leaving the folder itself exactly as it is."""
    if not (folder.exists() or folder.is_symlink()) or is_pyve_cache(folder):
        return folder
    return folder / SUBFOLDER


def prepare(cache_dir: Path) -> None:
    """Make the cache folder, never group- or world-writable (others must not plant
    packages in it), and mark it as pyve's. A folder pyve did not make is refused: pyve
    neither claims it nor writes packages into it. (An empty one is what a pyve killed
    between making and marking it left: it is marked.)"""
    if is_pyve_cache(cache_dir):
        return
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(cache_dir, 0o755)  # less the umask: at most rwxr-xr-x
    if cache_dir.is_symlink() or not cache_dir.is_dir() or any(cache_dir.iterdir()):
        raise PyveError(
            f"{cache_dir} is not a package cache pyve made: pyve keeps conda packages only "
            "in a folder it made and marked",
            hint="point PYVE_CACHE_DIR at a folder that does not exist yet, or move this one "
                 "away")
    atomic_write_text(cache_dir / TAG, TAG_TEXT)
    atomic_write_text(cache_dir / MARKER, "pyve's conda package cache; "
                      "`pyve cache clean` empties it\n")


def is_pyve_cache(cache_dir: Path) -> bool:
    try:
        tag = (cache_dir / TAG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return tag.startswith(TAG_TEXT.splitlines()[0]) and (cache_dir / MARKER).is_file()


def package_entries(cache_dir: Path) -> list[Path]:
    """What `cache clean` removes: package folders, their lock files, archives."""
    entries = []
    names = {p.name for p in cache_dir.iterdir()}
    for path in cache_dir.iterdir():
        name = path.name
        if path.is_dir() and not path.is_symlink():
            if ((path / "info" / "index.json").is_file() or name.startswith(STAGING_PREFIX)
                    or name == CHECKED):
                entries.append(path)  # a package, or what a killed fetch left
        elif name == ".cache.lock" or ARCHIVE.match(name) or (
                name.endswith(".lock") and name.removesuffix(".lock") in names):
            entries.append(path)
    return sorted(entries)


def file_facts(path: Path) -> str:
    """What changes when a file is written, replaced or re-linked (ctime cannot be set back
    by its owner): a checked file whose facts are unchanged need not be read again."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def was_checked(cache_dir: Path, entry_name: str, facts: str) -> bool:
    """True when pyve recorded these very facts for this cache entry after checking it."""
    try:
        return (cache_dir / CHECKED / entry_name).read_text(encoding="utf-8") == facts
    except OSError:
        return False


def record_checked(cache_dir: Path, entry_name: str, facts: str) -> None:
    """Remember that the entry with these facts passed pyve's checks (a lost stamp only
    means the checks run again)."""
    with contextlib.suppress(OSError):
        (cache_dir / CHECKED).mkdir(mode=0o755, exist_ok=True)
        atomic_write_text(cache_dir / CHECKED / entry_name, facts)


def clean(cache_dir: Path) -> int:
    """Remove the package entries of pyve's cache; return the bytes freed."""
    if not cache_dir.exists() and not cache_dir.is_symlink():
        return 0
    real = Path(os.path.realpath(cache_dir))
    if not is_pyve_cache(real):
        raise PyveError(
            f"{cache_dir} is not a package cache pyve made (no CACHEDIR.TAG with pyve's "
            "marker); pyve empties only its own cache",
            hint="check PYVE_CACHE_DIR; pyve marks the folder it makes when it first "
                 "caches packages there")
    freed = 0
    for entry in package_entries(real):
        freed += disk_usage(entry)
        remove(entry)  # never through a symlink
    return freed


def disk_usage(path: Path) -> int:
    """Bytes in the files under `path` (a link counts as itself, never followed)."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(OSError):
            return os.lstat(path).st_size
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # vanished meanwhile: nothing to count
                total += os.lstat(os.path.join(root, name)).st_size
    return total
