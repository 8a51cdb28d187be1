"""The core metadata of an installed distribution, headers only.

`importlib.metadata` parses a whole METADATA file with the email parser, the long description
included, and parses it again for each of `.metadata`, `.version` and `.requires`. A build
reads every package's metadata twice (prune, then the lock): on a real 180-package env that
was about a second of each cold build and of each one-line change. The headers end at the
first blank line (the core metadata spec puts the description after it), so only they are
parsed, once per package.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from email.message import Message


def headers(dist: Any) -> Message:
    """The metadata headers of `dist` (an importlib.metadata Distribution): `Name`,
    `Version`, `Requires-Dist` (get_all), ... as `dist.metadata` gives them."""
    from email.parser import HeaderParser  # ~10 ms of imports: only where metadata is read

    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    return HeaderParser().parsestr(head)


# --- the files a distribution installed, as its RECORD lists them ---------------------------

def installed(env: Path) -> dict[str, tuple[str, Path]]:
    """canonical name -> (version, dist-info folder) of every distribution in the env's
    site-packages (from the folder's name: no file is read)."""
    found: dict[str, tuple[str, Path]] = {}
    for info in sorted(env.glob("lib/python*/site-packages/*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        found.setdefault(_canonical(name), (version, info))
    return found


def record_rows(info: Path) -> list[tuple[Path, str | None, int | None]]:
    """(path, sha256 as RECORD writes it, size) of each file a dist-info's RECORD lists
    inside site-packages (scripts outside it are rewritten at install). An unreadable
    RECORD lists nothing."""
    site = info.parent
    try:
        rows = list(csv.reader(info.joinpath("RECORD").read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    found = []
    for row in rows:
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(site / row[0]))
        if not path.is_relative_to(site):
            continue
        digest = row[1].removeprefix("sha256=") if len(row) > 1 and \
            row[1].startswith("sha256=") else None
        size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
        found.append((path, digest, size))
    return found


def changed_files(env: Path, deep: bool = False,
                  skip: Iterable[str] = ()) -> dict[str, list[str]]:
    """The files of each distribution (but `skip`'s names) that are missing or differ from
    its RECORD: canonical name -> paths relative to site-packages. The size is compared (one
    stat a file); with `deep`, the sha256 as well, which catches a same-size edit. A file
    RECORD lists without a digest (a compiled .pyc, RECORD itself) only has to exist."""
    left_out = set(skip)
    changed: dict[str, list[str]] = {}
    for name, (_version, info) in installed(env).items():
        if name in left_out:
            continue
        for path, digest, size in record_rows(info):
            if _differs(path, digest, size, deep):
                changed.setdefault(name, []).append(path.relative_to(info.parent).as_posix())
    return changed


def _differs(path: Path, digest: str | None, size: int | None, deep: bool) -> bool:
    try:
        info = path.stat()
    except OSError:
        return digest is not None  # gone (a .pyc without a digest may go: Python remakes it)
    if size is not None and info.st_size != size:
        return True
    if not deep or digest is None:
        return False
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    except OSError:
        return True
    return base64.urlsafe_b64encode(sha.digest()).rstrip(b"=").decode() != digest


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
