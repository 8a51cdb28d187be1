"""Content fingerprints (xxhash): doit's file checker, and digests of files and settings."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import xxhash
from doit.dependency import FileChangedChecker

_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
    if not stat.S_ISREG(os.stat(path).st_mode):
        return "not-a-regular-file"  # a FIFO or device: reading it would block or consume it
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


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
        if file_stat.st_size != size:
            return True
        return bool(digest != file_digest(file_path))

    def get_state(self, dep: str, current_state: Any) -> Any:
        if dep in self.before_run:
            return self.before_run[dep]
        return file_state(dep)


def file_state(path: str) -> tuple[float, int, str]:
    """(mtime, size, digest) as doit's state file stores it."""
    stat = os.stat(path)
    return stat.st_mtime, stat.st_size, file_digest(path)
