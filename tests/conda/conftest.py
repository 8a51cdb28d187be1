"""Session fixtures for the conda engine tests: one local channel + wheelhouse per run."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def sandbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real HOME or caches; never pick up the user's pyve settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for var in ("PYVE_CACHE_DIR", "CI", "VIRTUAL_ENV", "PIP_INDEX_URL", "CONDA_PREFIX",
                "PYTHONDONTWRITEBYTECODE"):  # as tests/conftest.py's SANDBOX_DROPS
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip must never reach PyPI from these tests
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return home


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "pkgs"
