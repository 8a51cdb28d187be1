"""An installed `micromamba` binary as the conda engine, when the user asks for it
(PYVE_CONDA_ENGINE=micromamba or `conda_engine = "micromamba"` in pyve.toml; engines/__init__.py
decides which engine a build uses).

pyve still decides the package set (solve or lock); micromamba only installs that exact set,
from an @EXPLICIT file of URLs, so both engines make the same environment.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pyve import proc
from pyve.errors import PyveError
from pyve.offline import is_offline


def find() -> str:
    found = shutil.which("micromamba") or os.environ.get("MAMBA_EXE")
    if not found or not Path(found).exists():
        raise PyveError("the conda engine is micromamba, but no micromamba binary was found",
                        hint="install micromamba, or unset PYVE_CONDA_ENGINE to use the "
                        "embedded engine")
    return found


def dependency_order(records: Sequence[Any]) -> list[Any]:
    """The records with each one after the records it depends on (a depth-first walk of
    `depends`, in the given order otherwise; a cycle is cut where it closes). micromamba
    links an @EXPLICIT list in the order given, and a noarch: python package such as pip
    linked before python fails (`cannot set permissions ... bin/pip`)."""
    by_name = {record.name.normalized: record for record in records}
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(record: Any) -> None:
        name = record.name.normalized
        if name in seen:
            return
        seen.add(name)
        for depend in record.depends:
            # a repodata depend is "name [version [build]]"
            needed = by_name.get(depend.split(maxsplit=1)[0].lower()) if depend.strip() else None
            if needed is not None:
                visit(needed)
        ordered.append(record)

    for record in records:
        visit(record)
    return ordered


def explicit_text(records: Sequence[Any]) -> str:
    """micromamba's @EXPLICIT format: one URL per package, with its md5 to check, each
    package after its dependencies."""
    lines = ["@EXPLICIT"]
    for record in dependency_order(records):
        md5 = record.md5.hex() if record.md5 is not None else ""
        lines.append(f"{record.url}#{md5}" if md5 else str(record.url))
    return "\n".join(lines) + "\n"


def install(records: Sequence[Any], prefix: Path) -> None:
    """`micromamba create -p PREFIX --file explicit`: exactly these packages, nothing solved.
    On failure the prefix is removed, as with the embedded engine."""
    exe = find()
    with tempfile.TemporaryDirectory(prefix="pyve-explicit-") as tmp:
        explicit = Path(tmp) / "explicit.txt"
        explicit.write_text(explicit_text(records), encoding="utf-8")
        try:
            proc.run([exe, "create", "--yes", "--quiet", "--prefix", prefix, "--file", explicit,
                      # its package cache is hardlinked into every env, as rattler's is:
                      # check each file (size and sha256) and extract a changed one again
                      "--safety-checks", "enabled", "--extra-safety-checks",
                      *(["--offline"] if is_offline() else [])],
                     what="micromamba create",
                     hint="the partial environment was removed; run the build again")
        except PyveError:
            shutil.rmtree(prefix, ignore_errors=True)
            raise


class MicromambaEngine:
    name = "micromamba"

    def install(self, records: Sequence[Any], prefix: Path,
                requested_specs: Sequence[str] = (), *, reinstall: Iterable[str] = (),
                on_progress: Callable[[str], None] | None = None) -> None:
        """`reinstall` and `on_progress` are rattler's: micromamba links afresh into a new
        prefix, and prints its own progress."""
        from pyve.engines.pkgcache import default_cache_dir
        from pyve.engines.rattler_cache import check_packages

        check_packages(records, default_cache_dir())
        install(records, prefix)
