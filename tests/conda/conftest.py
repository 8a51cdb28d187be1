"""Session fixtures for the conda engine tests: one local channel + wheelhouse per run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ holds the plain fixture builders (conda_fixtures, wheel_fixtures).
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import conda_fixtures  # noqa: E402
import wheel_fixtures  # noqa: E402


@pytest.fixture(scope="session")
def local_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic multi-platform channel with the host python and pip (built once)."""
    channel = conda_fixtures.build_channel(tmp_path_factory.mktemp("channel") / "chan")
    if sys.platform.startswith("linux"):
        conda_fixtures.add_host_python(channel)
    return channel


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_fixtures.build_wheelhouse(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(autouse=True)
def sandbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real HOME or caches; never pick up the user's pyve settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for var in ("PYVE_CACHE_DIR", "CI", "VIRTUAL_ENV", "PIP_INDEX_URL", "CONDA_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip must never reach PyPI from these tests
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return home


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "pkgs"
