"""Fixtures for the interop tests: one pyve project with a conda env, pip packages and a lock,
built once per session and only read by the tests that use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import interop_helpers as helpers
from tests.support.conda_helpers import python_env


@dataclass(frozen=True)
class Built:
    root: Path  # the project: environment.yml, conda-lock.yml, .pyve/envs/<hash>/
    prefix: Path  # its env
    environ: dict[str, str]  # the sandbox it was built in (micromamba root included)

    @property
    def lock(self) -> Path:
        return self.root / "conda-lock.yml"


@pytest.fixture(scope="session")
def built(local_channel: Path, wheelhouse: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`pyve init` of python + bar + `pip` in dependencies + a `pip: [beta]` section."""
    base = tmp_path_factory.mktemp("interop-built")
    environ = helpers.tool_environ(helpers.sandbox_environ(base / "home", wheelhouse),
                                   base / "mamba-root")
    root = base / "proj"
    root.mkdir()
    python_env(root, local_channel)
    helpers.pyve("init", "--yes", env=environ, cwd=root)
    return Built(root, helpers.env_prefix(root), environ)


@pytest.fixture
def mamba_env(sandbox_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """This test's sandbox, with its own micromamba root prefix."""
    return helpers.tool_environ(sandbox_env, tmp_path / "mamba-root")
