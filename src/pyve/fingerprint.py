"""Content fingerprints (xxhash): doit's file checker, and digests of files and settings."""

from __future__ import annotations

import json
import os
from typing import Any

import xxhash
from doit.dependency import FileChangedChecker

_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
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
    """doit's MD5Checker logic (mtime, size, digest) with xxh3_128: same mtime -> unchanged
    without reading; other size -> changed; else compare content, so a `git checkout` or
    `touch` that keeps the bytes is no change."""

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        mtime, size, digest = state
        if file_stat.st_mtime == mtime:
            return False
        if file_stat.st_size != size:
            return True
        return bool(digest != file_digest(file_path))

    def get_state(self, dep: str, current_state: Any) -> Any:
        stat = os.stat(dep)
        if current_state and current_state[0] == stat.st_mtime:
            return None
        return stat.st_mtime, stat.st_size, file_digest(dep)
