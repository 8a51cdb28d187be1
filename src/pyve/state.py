"""doit's state file, written atomically (a damaged file is reported once and rebuilt), and
the checker that compares each input with it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyve.fingerprint import PYPROJECT, file_state, input_digest
from pyve.fsutil import atomic_write_text
from pyve.taskengine import FileChangedChecker, JsonDB

damaged_files: list[str] = []  # read by the command to say "state was damaged; rebuilding"


class AtomicJsonDB(JsonDB):  # type: ignore[misc]
    """JsonDB whose dump is temp file + rename, and whose load forgives a damaged file: one
    that does not parse, or whose entries doit could not read (`{"pip-deps": 5}`). A damaged
    entry is dropped, so its stage runs again -- the safe answer, never a crash."""

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        self.name = name
        self.codec = codec
        self._db: dict[str, Any] = {}
        if os.path.exists(name):
            try:
                data = codec.decode(Path(name).read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError, RecursionError):
                damaged_files.append(name)  # every stage re-runs
                return
            self._db = {task: entry for task, entry in data.items() if entry_is_sound(entry)}
            if len(self._db) != len(data):
                damaged_files.append(name)

    def dump(self) -> None:
        # private: stage settings come from the user's files (pip options, channels)
        atomic_write_text(Path(self.name), self.codec.encode(self._db), mode=0o600)


class XxhashChecker(FileChangedChecker):
    """doit's file checker with xxh3_128, trusting content only: a file whose size is the
    same is read and its digest compared, whatever its mtime says (an edit followed by
    `touch -r old` keeps the mtime; a `git checkout` changes it and keeps the bytes).
    Input files are small: hashing them costs microseconds.

    `before_run`: the states of a stage's inputs taken just before its action ran. doit saves
    the state after the action; an input edited while the stage ran must be saved as it was
    when the stage read it, so the next build sees the edit and runs the stage again."""

    def __init__(self) -> None:
        self.before_run: dict[str, tuple[float, int, str]] = {}

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        _mtime, size, digest = state
        if file_stat.st_size != size and os.path.basename(file_path) != PYPROJECT:
            return True  # (pyproject.toml: a new [tool.ruff] line changes its size only)
        return bool(digest != input_digest(file_path))

    def get_state(self, dep: str, current_state: Any) -> Any:
        if dep in self.before_run:
            return self.before_run[dep]
        return file_state(dep)


def entry_is_sound(entry: object) -> bool:
    """One task's record has the shape doit and pyve's checks read: values and settings are
    mappings, the file list is names, each file's state is (mtime, size, digest)."""
    if not isinstance(entry, dict):
        return False
    for key, value in entry.items():
        if key == "_values_:":
            if not isinstance(value, dict) or not isinstance(value.get("_pyve_config", {}), dict):
                return False
        elif key == "checker:":
            if not isinstance(value, str):
                return False
        elif key == "deps:":
            if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
                return False
        elif key in ("result:", "ignore:"):
            if not isinstance(value, str | dict):
                return False
        elif not _file_state(value):
            return False
    return True


def _file_state(value: object) -> bool:
    return (isinstance(value, list) and len(value) == 3
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
            and isinstance(value[2], str))


def repair_state_dir(state_dir: Path) -> None:
    """pyve's own folders inside .pyve/ that are files (a damaged disk, a stray write) are
    discarded, so the build makes them again; the stages they recorded re-run."""
    stamps = state_dir / "stamps"
    if stamps.is_symlink() or (stamps.exists() and not stamps.is_dir()):
        stamps.unlink()
        damaged_files.append(str(stamps))
