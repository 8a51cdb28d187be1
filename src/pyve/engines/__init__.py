"""Conda engines: what installs a solved package set into a prefix. py-rattler (embedded, the
default) or a micromamba binary, when asked for. The conda backend asks `get_engine` for one
and never names them; the solve is pyve's own (rattler's) whichever engine installs.

Which engine is part of the env's definition: only pyve.toml's `conda_engine` (a project
setting, so changing it rebuilds the env like any other setting). PYVE_CONDA_ENGINE is a mode
of one invocation: it picks the installer for what that build installs, and an env made with
it stays up to date for plain runs (otherwise `PYVE_CONDA_ENGINE=micromamba pyve build` then
`pyve run` rebuilt with rattler, and every alternation flipped the env back and forth)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pyve.errors import UsageError

ENGINES = ("rattler", "micromamba")


class Engine(Protocol):
    name: str

    def install(self, records: Sequence[Any], prefix: Path,
                requested_specs: Sequence[str] = (), *, reinstall: Iterable[str] = (),
                on_progress: Callable[[str], None] | None = None) -> None:
        """Make `prefix` hold exactly `records` (nothing solved); on failure remove it.
        `reinstall`: installed packages to link again (their files changed);
        `on_progress`: hears what the engine is doing, in a few words."""
        ...


def get_engine(name: str) -> Engine:
    if name == "micromamba":
        from pyve.engines.micromamba import MicromambaEngine

        return MicromambaEngine()
    from pyve.engines.rattler import RattlerEngine

    return RattlerEngine()


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
