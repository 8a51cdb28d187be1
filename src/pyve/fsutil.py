"""Small file-system helpers: atomic writes (temp file + rename), keeping the file's mode;
removal that never follows a symlink; and removal in two atomic steps (rename aside, then
delete), so a kill half-way leaves a leftover pyve recognises and finishes removing."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from pathlib import Path

# `<name>.pyve-old-<id>`: a folder pyve renamed aside to delete it. Whatever is left of one
# (pyve was killed while deleting it) is pyve's to finish removing.
OLD_MARK = ".pyve-old-"


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a full disk fails write(), which names no file
        raise


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
    _test_pause()
    shutil.rmtree(aside)


def leftovers(path: Path) -> list[Path]:
    """What killed discard()s of `path` left next to it."""
    return sorted(path.parent.glob(glob.escape(path.name) + OLD_MARK + "*"))


def finish_discards(path: Path) -> None:
    for leftover in leftovers(path):
        remove(leftover)


def _test_pause() -> None:
    """TEST-ONLY (tests/e2e/test_interrupts.py): PYVE_TEST_PAUSE_AT=discard stops here,
    after the rename and before the delete, through graph.py's hook."""
    if os.environ.get("PYVE_TEST_PAUSE_AT") == "discard":
        from pyve.graph import _test_pause

        _test_pause("discard", "before")
