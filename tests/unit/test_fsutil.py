"""fsutil.py: a write into a project's root goes through .pyve/tmp/; what killed writers
left is swept, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyve.fsutil import atomic_write_text, sweep_temp


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)  # that process is gone (its pid may come back: then kept)


def test_a_write_into_a_project_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / ".pyve").mkdir()
    atomic_write_text(tmp_path / "requirements.lock.txt", "x\n")
    assert (tmp_path / "requirements.lock.txt").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".pyve", "requirements.lock.txt"]
    assert list((tmp_path / ".pyve").iterdir()) == []  # .pyve/tmp goes once empty


def test_a_broken_scratch_folder_means_a_temp_file_beside(tmp_path: Path) -> None:
    (tmp_path / ".pyve").mkdir()
    (tmp_path / ".pyve" / "tmp").write_text("not a folder")
    atomic_write_text(tmp_path / "pyve.toml", "x = 1\n")
    assert (tmp_path / "pyve.toml").read_text() == "x = 1\n"
    assert (tmp_path / ".pyve" / "tmp").read_text() == "not a folder"


def test_sweep_removes_only_what_dead_writers_left(tmp_path: Path) -> None:
    scratch = tmp_path / ".pyve" / "tmp"
    scratch.mkdir(parents=True)
    dead = _dead_pid()
    gone = scratch / f"requirements.lock.txt.{dead}.abcd1234.tmp"
    running = scratch / f"conda-lock.yml.{os.getpid()}.abcd1234.tmp"  # a write under way
    for path in (gone, running):
        path.write_text("half\n")
    legacy = tmp_path / ".requirements.lock.txt.k2x_9a0b.tmp"
    beside = tmp_path / f".pyve.toml.{dead}.k2x_9a0b.tmp"
    users = [tmp_path / ".notes.k2x_9a0b.tmp", tmp_path / "requirements.lock.txt.k2x_9a0b.tmp"]
    for path in (legacy, beside, *users):
        path.write_text("x\n")
    sweep_temp(tmp_path)
    assert not gone.exists() and running.exists()
    assert not legacy.exists() and not beside.exists()
    assert all(path.exists() for path in users)
