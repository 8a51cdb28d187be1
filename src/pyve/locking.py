"""One pyve process at a time per project: an exclusive lock that says when it waits."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyve import ui
from pyve.fsutil import sweep_temp


@contextmanager
def project_lock(state_dir: Path) -> Iterator[None]:
    created = not state_dir.exists()
    path = state_dir / "lock"
    fd = _acquire(state_dir, path)
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError as exc:  # a full disk: name the file, as every write of pyve's does
            exc.filename = exc.filename or str(path)
            raise
        sweep_temp(state_dir.parent)  # what killed pyve processes left half-written
        yield
    finally:
        if created and _only_lock(state_dir):
            # A command that failed early (or found nothing to do) leaves no trace.
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                state_dir.rmdir()
        os.close(fd)  # closing releases the lock


def _acquire(state_dir: Path, path: Path) -> int:
    """Lock `path`; retry if its holder removed it meanwhile (we would hold a stale inode)."""
    while True:
        state_dir.mkdir(mode=0o755, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # `pyve purge` removed .pyve/ between mkdir and open: make it again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            ui.err().print(f"waiting for another pyve process (pid {holder}) to finish...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _only_lock(state_dir: Path) -> bool:
    try:
        return [p.name for p in state_dir.iterdir()] == ["lock"]
    except OSError:
        return False
