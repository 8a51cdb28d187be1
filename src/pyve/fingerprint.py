"""Content fingerprints (xxhash): digests of files and settings (doit's file checker,
state.XxhashChecker, compares them).

Every digest of a stage's input goes through `input_digest`: doit's state, the fingerprints
and the venv lock's inputs line agree on what counts as a change."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import xxhash

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


def file_state(path: str) -> tuple[float, int, str]:
    """(mtime, size, digest) as doit's state file stores it."""
    stat = os.stat(path)
    return stat.st_mtime, stat.st_size, input_digest(path)
