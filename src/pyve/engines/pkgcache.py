"""The shared conda package cache ($PYVE_CACHE_DIR, else ~/.cache/pyve/pkgs).

pyve marks the folder as its cache when it creates it (a standard CACHEDIR.TAG plus pyve's
own marker), and `pyve cache clean` empties only a folder so marked -- and in it only what
it recognises as packages: extracted package folders (with info/index.json), their `.lock`
files, package archives, and pyve's own download folders (`.pyve-fetch-*`). PYVE_CACHE_DIR
pointed at a real folder never loses a file.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text, remove

TAG = "CACHEDIR.TAG"
TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by pyve (conda package cache).\n"
            "# For information about cache directory tags see https://bford.info/cachedir/\n")
MARKER = ".pyve-package-cache"
ARCHIVE = re.compile(r".+\.(conda|tar\.bz2)$")
STAGING_PREFIX = ".pyve-fetch-"  # where pyve downloads and checks packages before use


def default_cache_dir() -> Path:
    """$PYVE_CACHE_DIR, else $XDG_CACHE_HOME/pyve/pkgs, else ~/.cache/pyve/pkgs."""
    if os.environ.get("PYVE_CACHE_DIR"):
        return Path(os.environ["PYVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pyve" / "pkgs"


def prepare(cache_dir: Path) -> None:
    """Make the cache folder and mark it as pyve's -- only when it is new or empty: a folder
    that already holds something is used as it is, never claimed."""
    if not cache_dir.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
    if not is_pyve_cache(cache_dir) and cache_dir.is_dir() and not any(cache_dir.iterdir()):
        atomic_write_text(cache_dir / TAG, TAG_TEXT)
        atomic_write_text(cache_dir / MARKER, "pyve's conda package cache; "
                          "`pyve cache clean` empties it\n")
    with contextlib.suppress(OSError):  # not world/group-writable: others must not plant files
        os.chmod(cache_dir, os.stat(cache_dir).st_mode & ~0o022)


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
            if (path / "info" / "index.json").is_file() or name.startswith(STAGING_PREFIX):
                entries.append(path)  # a package, or what a killed fetch left
        elif name == ".cache.lock" or ARCHIVE.match(name) or (
                name.endswith(".lock") and name.removesuffix(".lock") in names):
            entries.append(path)
    return sorted(entries)


def clean(cache_dir: Path) -> int:
    """Remove the package entries of pyve's cache; return the bytes freed."""
    if not cache_dir.exists() and not cache_dir.is_symlink():
        return 0
    real = Path(os.path.realpath(cache_dir))
    if not is_pyve_cache(real):
        raise PyveError(
            f"{cache_dir} is not a package cache pyve made (no CACHEDIR.TAG with pyve's "
            "marker); pyve empties only its own cache",
            hint="check PYVE_CACHE_DIR; pyve marks a new or empty folder when it first "
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
