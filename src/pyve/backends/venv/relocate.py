"""A venv restored from the remote cache at another path: the old prefix rewritten.

What names the env's own path in a venv is text: pyve's marker, the scripts in bin/
(shebangs, activate),
and for a project installed editable, the .pth and finder files and direct_url.json that
name the project's folder. Those are rewritten (conda-pack's way, for text files only; no
binary in a venv holds its prefix), and their RECORD lines follow so `doctor --deep` finds
every file as installed. bin/python, a link to the base interpreter the archive leaves out,
is made again to the interpreter the decision chose (pyvenv.cfg's `home` names its folder).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from pathlib import Path

from pyve.fsutil import atomic_write_bytes


def relocate(env: Path, python_path: str | None, moves: list[tuple[str, str]]) -> None:
    """moves: (old, new) path prefixes, the env's first."""
    link = env / "bin" / "python"
    if python_path and not link.exists() and not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(python_path, link)
    pairs = [(old.encode(), new.encode()) for old, new in moves if old != new]
    if not pairs:
        return
    changed: set[Path] = set()
    for path in _candidates(env):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data or not any(old in data for old, _ in pairs):
            continue
        for old, new in pairs:
            data = data.replace(old, new)
        atomic_write_bytes(path, data, path.stat().st_mode & 0o7777)
        changed.add(Path(os.path.normpath(path)))
    if changed:
        _fix_records(env, changed)


def _site_packages(env: Path) -> list[Path]:
    return sorted(env.glob("lib/python*/site-packages"))


def _candidates(env: Path) -> list[Path]:
    found = [p for p in (env / "bin").iterdir() if p.is_file() and not p.is_symlink()] \
        if (env / "bin").is_dir() else []
    found += [p for p in env.iterdir()]  # pyvenv.cfg, pyve's marker (the env's path)
    for site in _site_packages(env):
        found += [*site.glob("*.pth"), *site.glob("__editable__*.py"),
                  *site.glob("*.dist-info/direct_url.json"), *site.glob("*.egg-link")]
    return [p for p in found if p.is_file() and not p.is_symlink()]


def _fix_records(env: Path, changed: set[Path]) -> None:
    names = {p.name for p in changed}
    for site in _site_packages(env):
        for record in site.glob("*.dist-info/RECORD"):
            text = record.read_text(encoding="utf-8")
            if not any(name in text for name in names):  # most RECORDs: read, not parsed
                continue
            rows = list(csv.reader(io.StringIO(text)))
            touched = False
            for row in rows:
                if len(row) < 3 or not row[1]:
                    continue
                path = Path(os.path.normpath(site / row[0]))
                if path in changed:
                    data = path.read_bytes()
                    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
                    row[1] = "sha256=" + digest.rstrip(b"=").decode()
                    row[2] = str(len(data))
                    touched = True
            if touched:
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerows(rows)
                atomic_write_bytes(record, out.getvalue().encode("utf-8"))
