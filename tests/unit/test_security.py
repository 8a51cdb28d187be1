"""Security invariants: no shell anywhere, pyve's state and package cache not writable by
others, and locks whose hashes are checked at install time."""

from __future__ import annotations

import re
import stat
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "pyve"


def test_no_shell_anywhere() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(|commands\.getoutput",
                         code):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, offenders


def _not_writable_by_others(path: Path) -> bool:
    return not path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def test_atomic_write_modes(tmp_path: Path) -> None:
    import os

    from pyve.fsutil import atomic_write_text

    old = os.umask(0)  # the worst umask: files must still not be world-writable
    try:
        from pyve.state import AtomicJsonDB

        db = AtomicJsonDB(str(tmp_path / "state.json"), __import__("doit.dependency",
                          fromlist=["JSONCodec"]).JSONCodec())
        db.dump()
        assert _not_writable_by_others(tmp_path / "state.json")
        atomic_write_text(tmp_path / "keep.txt", "x", mode=0o600)
        atomic_write_text(tmp_path / "keep.txt", "y")  # keeps the existing mode
        assert stat.S_IMODE((tmp_path / "keep.txt").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_new_files_and_cache_are_not_world_writable_under_umask_0(tmp_path: Path) -> None:
    import os

    from pyve.engines import rattler as engine
    from pyve.fsutil import atomic_write_text

    old = os.umask(0)
    try:
        atomic_write_text(tmp_path / "pyve.toml", "backend = 'venv'\n")
        assert not (tmp_path / "pyve.toml").stat().st_mode & stat.S_IWOTH
        cache = tmp_path / "pkgs"
        engine.install([], tmp_path / "env", cache)
        assert _not_writable_by_others(cache)
    finally:
        os.umask(old)
