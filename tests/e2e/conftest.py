"""Fixtures shared by the end-to-end tests: a multi-platform conda channel, a built venv project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, built_once
from tests.support import conda_fixtures


@pytest.fixture(scope="session")
def multi_channel(local_channel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local channel plus stub pythons for the non-linux platforms (built once), so
    envs with python and pip lock for all four default platforms."""
    def build(where: Path) -> Path:
        channel = where / "chan"
        shutil.copytree(local_channel, channel, symlinks=True)
        return conda_fixtures.add_python_stubs(channel, ["osx-64", "osx-arm64", "win-64"])

    return built_once(tmp_path_factory, "multi", build)


@pytest.fixture
def venv_project(project: Path, pyve: PyveRunner) -> Path:
    """A built venv project (alpha from the test wheelhouse)."""
    (project / "requirements.txt").write_text("alpha\n")
    pyve("init", "--yes", check=True)
    return project
