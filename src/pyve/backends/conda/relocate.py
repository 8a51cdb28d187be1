"""A conda env restored from the remote cache at another path: its prefix rewritten, as
conda-pack does.

The files that hold the prefix are the ones the packages declare (conda-meta records:
`prefix_placeholder`, `file_mode`), which the engine filled in with the old prefix when it
linked them, plus the entry points it wrote (scripts in bin/). A text file gets the new
prefix; in a binary one the prefix sits in C strings, so it is replaced in place and padded
with NUL bytes, which only fits a new prefix no longer than the old one (else PyveError, and
the restore counts as a miss).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pyve.errors import PyveError
from pyve.fsutil import atomic_write_bytes


def relocate(env: Path, old: str, new: str) -> None:
    if old == new:
        return
    before, after = old.encode(), new.encode()
    for path, mode in sorted(_prefix_files(env).items()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if before not in data:
            continue
        if mode == "binary":
            if len(after) > len(before):
                raise PyveError(f"the conda env cannot move from {old} to the longer path "
                                f"{new}: {path.relative_to(env)} holds its prefix in binary")
            data = _binary_replace(data, before, after)
        else:
            data = data.replace(before, after)
        atomic_write_bytes(path, data, path.stat().st_mode & 0o7777)


def _prefix_files(env: Path) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for record in (env / "conda-meta").glob("*.json"):
        try:
            paths = json.loads(record.read_text(encoding="utf-8"))["paths_data"]["paths"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for entry in paths if isinstance(paths, list) else []:
            if isinstance(entry, dict) and entry.get("prefix_placeholder"):
                found[env / str(entry["_path"])] = str(entry.get("file_mode") or "text")
    bin_dir = env / "bin"
    for script in bin_dir.iterdir() if bin_dir.is_dir() else []:
        if script.is_file() and not script.is_symlink() and script not in found:
            with open(script, "rb") as handle:
                if handle.read(2) == b"#!":
                    found[script] = "text"
    return {p: m for p, m in found.items() if p.is_file() and not p.is_symlink()}


def _binary_replace(data: bytes, old: bytes, new: bytes) -> bytes:
    """conda's rule: each C string that starts with the old prefix gets the new one, and
    NULs after it keep its length."""
    pattern = re.compile(re.escape(old) + rb"([^\0]*?)\0")

    def swap(match: re.Match[bytes]) -> bytes:
        rest = match.group(1)
        padding = len(old) - len(new)
        return new + rest + b"\0" * (padding + 1)

    return pattern.sub(swap, data)
