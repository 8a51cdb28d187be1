"""A python-build-standalone-shaped archive of an interpreter on this machine, and the
downloads JSON (uv's download-metadata.json format) that points uv at it: uv's managed-Python
install, offline. The `install_only` layout: one `python/` folder with bin/ and lib/."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tarfile
from pathlib import Path

# what a venv needs of the standard library; the rest (tests, tkinter, ...) only makes the
# archive slower to pack and unpack
_SKIPPED = {"test", "tests", "site-packages", "__pycache__", "idlelib", "tkinter", "lib2to3",
            "turtledemo", "ensurepip", "pydoc_data"}


def build_archive(prefix: Path, version: str, where: Path) -> Path:
    """prefix: an installed CPython (e.g. a pyenv version folder) of `version` (X.Y.Z)."""
    minor = ".".join(version.split(".")[:2])
    root = where / "staging" / "python"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(prefix / "bin" / f"python{minor}", root / "bin" / f"python{minor}")
    for alias in ("python3", "python"):
        os.symlink(f"python{minor}", root / "bin" / alias)
    shutil.copytree(prefix / "lib" / f"python{minor}", root / "lib" / f"python{minor}",
                    symlinks=True, ignore=lambda _dir, names: [
                        n for n in names if n in _SKIPPED or n.startswith("config-")])
    (root / "lib" / f"python{minor}" / "site-packages").mkdir()
    archive = where / f"cpython-{version}+20990101-x86_64-unknown-linux-gnu-install_only.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(root, arcname="python")
    shutil.rmtree(where / "staging")
    return archive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def downloads_json(archive: Path, version: str, where: Path, digest: str | None = None) -> Path:
    """The one download uv may install; digest: the sha256 it promises (the archive's own by
    default)."""
    major, minor, patch = (int(p) for p in version.split("."))
    key = f"cpython-{version}-linux-{platform.machine()}-gnu"
    entry = {"name": "cpython", "arch": {"family": platform.machine(), "variant": None},
             "os": "linux", "libc": "gnu", "major": major, "minor": minor, "patch": patch,
             "prerelease": "", "url": archive.as_uri(), "sha256": digest or sha256(archive),
             "variant": None, "build": "20990101"}
    path = where / ("downloads.json" if digest is None else f"downloads-{digest[:8]}.json")
    path.write_text(json.dumps({key: entry}, indent=2))
    return path
