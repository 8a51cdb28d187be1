"""An installed `micromamba` binary as the conda engine, when the user asks for it
(PYVE_CONDA_ENGINE=micromamba or `conda_engine = "micromamba"` in pyve.toml).

pyve still decides the package set (solve or lock); micromamba only installs that exact set,
from an @EXPLICIT file of URLs, so both engines make the same environment.

Which engine is part of the env's definition: only pyve.toml's `conda_engine` (a project
setting, so changing it rebuilds the env like any other setting). PYVE_CONDA_ENGINE is a mode
of one invocation: it picks the installer for what that build installs, and an env made with
it stays up to date for plain runs (otherwise `PYVE_CONDA_ENGINE=micromamba pyve build` then
`pyve run` rebuilt with rattler, and every alternation flipped the env back and forth)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyve import proc
from pyve.errors import PyveError, UsageError

ENGINES = ("rattler", "micromamba")


def engine_name(config_value: object) -> str:
    """The engine for this build's installs: PYVE_CONDA_ENGINE > pyve.toml > rattler."""
    recorded = recorded_engine(config_value)
    env_value = os.environ.get("PYVE_CONDA_ENGINE", "").strip()
    return _checked(env_value, "PYVE_CONDA_ENGINE") if env_value else recorded


def recorded_engine(config_value: object) -> str:
    """The engine recorded with the env (its create-env stage): pyve.toml's `conda_engine`
    only, never the PYVE_CONDA_ENGINE of one invocation."""
    return _checked(str(config_value or "rattler"), "pyve.toml conda_engine")


def _checked(value: str, where: str) -> str:
    value = value.strip().lower()
    if value not in ENGINES:
        raise UsageError(f"invalid conda engine {value!r} in {where}",
                         hint="valid: rattler (embedded, the default), micromamba")
    return value


def find() -> str:
    found = shutil.which("micromamba") or os.environ.get("MAMBA_EXE")
    if not found or not Path(found).exists():
        raise PyveError("the conda engine is micromamba, but no micromamba binary was found",
                        hint="install micromamba, or unset PYVE_CONDA_ENGINE to use the "
                        "embedded engine")
    return found


def explicit_text(records: Sequence[Any]) -> str:
    """micromamba's @EXPLICIT format: one URL per package, with its md5 to check."""
    lines = ["@EXPLICIT"]
    for record in records:
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
            proc.run([exe, "create", "--yes", "--quiet", "--prefix", prefix, "--file", explicit],
                     what="micromamba create",
                     hint="the partial environment was removed; run the build again")
        except PyveError:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
