"""Small file-system helpers: atomic writes (temp file + rename), keeping the file's mode;
removal that never follows a symlink; removal in two atomic steps (rename aside, then
delete), so a kill half-way leaves a leftover pyve recognises and finishes removing; and
where pyve's user cache lives.

A file written into a project's root (a lock, pyve.toml, .gitignore, .envrc) is first
written in `.pyve/tmp/`, on the same filesystem, then renamed into place: a kill -9 between
the two leaves the temp file in pyve's own folder, never in the user's tree (where `git add .`
would commit it). Each temp file carries its writer's pid; `sweep_temp` removes the ones whose
writer is gone."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

from pyve import testing_hooks
from pyve.projectroot import STATE_DIR

SCRATCH = "tmp"  # .pyve/tmp: temp files of writes into the project's root
# `<name>.<pid>.<random>.tmp` (mkstemp's 8 random characters)
TEMP_NAME = re.compile(r"(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp")
# What a killed write left beside one of pyve's files in a project's root: an older pyve's
# `.<name>.<random>.tmp`, or `.<name>.<pid>.<random>.tmp` (.pyve/ on another filesystem).
ROOT_FILES = ("requirements.lock.txt", "conda-lock.yml", "pyve.toml", "environment.yml",
              ".gitignore", ".envrc")
BESIDE_TEMP = re.compile(r"\.(?P<name>.+?)(?:\.(?P<pid>\d+))?\.[a-z0-9_]{8}\.tmp")

# `<name>.pyve-old-<id>`: a folder pyve renamed aside to delete it. Whatever is left of one
# (pyve was killed while deleting it) is pyve's to finish removing.
OLD_MARK = ".pyve-old-"


def user_cache_dir() -> Path:
    """pyve's folder in the user's cache: $XDG_CACHE_HOME/pyve, else ~/.cache/pyve."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pyve"


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    """Write `text` to `path` so readers see the old or the new file, never half of one."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """atomic_write_text for bytes (a file whose encoding pyve must keep as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            # never world-writable, even under `umask 0`: state and locks decide what runs
            mode = 0o666 & ~_umask() & ~0o002
    scratch = _scratch_for(path)
    try:
        tmp = _write_temp(path, scratch, data, mode)
        try:
            testing_hooks.pause_at_point(f"write-{path.name}")
            try:
                os.replace(tmp, path)
            except OSError as exc:
                if exc.errno != errno.EXDEV or scratch is None:
                    raise
                Path(tmp).unlink(missing_ok=True)  # .pyve/ is on another filesystem
                tmp = _write_temp(path, None, data, mode)
                os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        if scratch is not None:
            with contextlib.suppress(OSError):  # empty again: leave no trace in .pyve/
                scratch.rmdir()


def _write_temp(path: Path, scratch: Path | None, data: bytes, mode: int) -> str:
    """A whole temp copy of the new `path`, on disk, with its final mode."""
    fd, tmp = _temp_file(path, scratch)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a full disk fails write(), which names no file
        raise
    return tmp


def _scratch_for(path: Path) -> Path | None:
    """Where the temp file of a write into a project's root goes: that project's .pyve/tmp
    (the folder holds pyve's .pyve), else None (beside the file: inside .pyve/, an env)."""
    state = path.parent / STATE_DIR
    scratch = state / SCRATCH
    if not state.is_dir() or scratch.is_symlink() or (scratch.exists() and not scratch.is_dir()):
        return None
    return scratch


def _temp_file(path: Path, scratch: Path | None) -> tuple[int, str]:
    if scratch is None:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                suffix=".tmp")
    while True:
        scratch.mkdir(mode=0o700, exist_ok=True)
        try:
            return tempfile.mkstemp(dir=scratch, prefix=f"{path.name}.{os.getpid()}.",
                                    suffix=".tmp")
        except FileNotFoundError:
            continue  # another write's cleanup removed the empty folder meanwhile


def sweep_temp(root: Path) -> None:
    """Remove the temp files that killed pyve processes left: in `root`/.pyve/tmp (those
    whose writer is gone), and in `root` what an older pyve left beside its own files."""
    scratch = root / STATE_DIR / SCRATCH
    with contextlib.suppress(OSError):
        for entry in scratch.iterdir():
            found = TEMP_NAME.fullmatch(entry.name)
            if found and entry.is_file() and not _alive(int(found["pid"])):
                entry.unlink(missing_ok=True)
        scratch.rmdir()
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            found = BESIDE_TEMP.fullmatch(entry.name)
            if found and found["name"] in ROOT_FILES and entry.is_file() \
                    and not entry.is_symlink() \
                    and not (found["pid"] and _alive(int(found["pid"]))):
                entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process: not ours to judge
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def remove(path: Path) -> None:
    """Remove a file, a symlink or a folder, never through a symlink: a symlink is unlinked
    (what it points at is not touched), and shutil.rmtree unlinks the links it meets inside
    a folder instead of descending into them."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def discard(path: Path) -> None:
    """Remove the folder `path` in two steps: rename it aside to `<name>.pyve-old-<id>` in
    the same folder (atomic: `path` is whole, or gone), then delete that. Killed during the
    delete, it leaves only a leftover that finish_discards() removes."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    aside = path.with_name(f"{path.name}{OLD_MARK}{uuid.uuid4().hex[:12]}")
    try:
        os.rename(path, aside)
    except OSError:  # a mount point cannot be renamed: delete in place, as before
        shutil.rmtree(path)
        return
    testing_hooks.pause_at_point()
    shutil.rmtree(aside)


def leftovers(path: Path) -> list[Path]:
    """What killed discard()s of `path` left next to it."""
    return sorted(path.parent.glob(glob.escape(path.name) + OLD_MARK + "*"))


def finish_discards(path: Path) -> None:
    for leftover in leftovers(path):
        remove(leftover)
