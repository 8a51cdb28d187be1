"""Content fingerprints (xxhash): doit's file checker, and digests of files and settings.

Every digest of a stage's input goes through `input_digest`: doit's state, the fingerprints
and the venv lock's inputs line agree on what counts as a change."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import xxhash
from doit.dependency import FileChangedChecker

_CHUNK = 1 << 20
PYPROJECT = "pyproject.toml"  # digested by what an install reads of it (input_digest)


def file_digest(path: str | os.PathLike[str]) -> str:
    if not stat.S_ISREG(os.stat(path).st_mode):
        return "not-a-regular-file"  # a FIFO or device: reading it would block or consume it
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def input_digest(path: str | os.PathLike[str]) -> str:
    """A stage input's digest: its bytes; of a pyproject.toml only what an install reads
    (buildmeta.install_view), so an edit of `[tool.ruff]` leaves the install up to date.
    When in doubt (it does not parse, the backend is in-tree) the whole file counts."""
    if os.path.basename(path) == PYPROJECT and stat.S_ISREG(os.stat(path).st_mode):
        from pathlib import Path

        from pyve import buildmeta

        data = buildmeta.load(Path(path))
        view = buildmeta.install_view(data) if data is not None else None
        if view is not None:
            return "install-view:" + data_digest(view)
    return file_digest(path)


def data_digest(data: Any) -> str:
    """Digest of JSON-able data, independent of dict order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return xxhash.xxh3_128_hexdigest(text.encode())


def platform_tag() -> str:
    """The platform in fingerprints: OS and machine (linux-x86_64, darwin-arm64)."""
    import platform
    import sys

    return f"{sys.platform}-{platform.machine().lower()}"


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


def file_state(path: str) -> tuple[float, int, str]:
    """(mtime, size, digest) as doit's state file stores it."""
    stat = os.stat(path)
    return stat.st_mtime, stat.st_size, input_digest(path)
