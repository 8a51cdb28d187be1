"""One module per backend; `get_backend` maps a backend name to it."""

from __future__ import annotations

from pyve.backends.base import Backend


def get_backend(name: str) -> Backend:
    if name == "venv":
        from pyve.backends.venv.backend import VenvBackend

        return VenvBackend()
    if name == "micromamba":
        from pyve.backends.conda.backend import CondaBackend

        return CondaBackend()
    raise ValueError(f"unknown backend {name!r}")  # decision.py validated it already


def all_backends() -> list[Backend]:
    """Every backend (purge removes what any of them made, whichever the project uses now)."""
    from pyve.decision import BACKENDS

    return [get_backend(name) for name in BACKENDS]
