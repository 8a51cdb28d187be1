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

import hashlib
import json
import re
from pathlib import Path

from pyve.errors import PyveError
from pyve.fsutil import atomic_write_bytes

MARKER = "conda-meta/pyve-env.marker"  # backend.MARKER (which imports this module lazily)


def relocate(env: Path, old: str, new: str, links: dict[str, str]) -> None:
    """links: the links out of the env the archive left out; those a package installed
    (its conda-meta record lists the path) are made again, as the engine linked them."""
    declared = _declared_paths(env)
    for name, target in links.items():
        where = env / name
        if name in declared and not where.exists() and not where.is_symlink():
            where.parent.mkdir(parents=True, exist_ok=True)
            where.symlink_to(target)
    if old == new:
        return
    before, after = old.encode(), new.encode()
    changed: dict[str, bytes] = {}
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
        changed[path.relative_to(env).as_posix()] = data
    _fix_records(env, changed)


def _fix_records(env: Path, changed: dict[str, bytes]) -> None:
    """The records' digests of the rewritten files (sha256_in_prefix, and the size of one
    the engine wrote itself), so `doctor --deep` finds them as linked."""
    if not changed:
        return
    for record in (env / "conda-meta").glob("*.json"):
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            paths = data["paths_data"]["paths"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        touched = False
        for entry in paths if isinstance(paths, list) else []:
            if isinstance(entry, dict) and entry.get("_path") in changed:
                content = changed[str(entry["_path"])]
                entry["sha256_in_prefix"] = hashlib.sha256(content).hexdigest()
                if not entry.get("prefix_placeholder"):
                    entry["size_in_bytes"] = len(content)
                touched = True
        if touched:
            atomic_write_bytes(record, json.dumps(data, indent=1).encode("utf-8"))


def _records(env: Path) -> list[dict[str, object]]:
    found = []
    for record in (env / "conda-meta").glob("*.json"):
        try:
            paths = json.loads(record.read_text(encoding="utf-8"))["paths_data"]["paths"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found += [e for e in paths if isinstance(e, dict)] if isinstance(paths, list) else []
    return found


def _declared_paths(env: Path) -> set[str]:
    return {str(entry.get("_path")) for entry in _records(env)}


def _prefix_files(env: Path) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for entry in _records(env):
        if entry.get("prefix_placeholder"):
            found[env / str(entry["_path"])] = str(entry.get("file_mode") or "text")
    found.setdefault(env / MARKER, "text")  # pyve's marker names the env's path
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
