"""Shared fixtures: an offline wheelhouse (built once per run), a sandboxed environment
(HOME, caches, no PYVE_*/CI/VIRTUAL_ENV), and a helper that runs the real `pyve` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.wheel_fixtures import build_wheelhouse

REAL_PYENV_ROOT = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture
def sandbox_env(tmp_path: Path, wheelhouse: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYVE_", "PIP_", "UV_")) and k not in ("CI", "VIRTUAL_ENV")}
    env.update({
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PIP_CACHE_DIR": str(home / ".cache" / "pip"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYENV_ROOT": REAL_PYENV_ROOT,  # interpreters are the machine's; HOME is not
        "NO_COLOR": "1",
        "COLUMNS": "200",
    })
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


PyveRunner = Callable[..., Result]


@pytest.fixture
def pyve(project: Path, sandbox_env: dict[str, str]) -> PyveRunner:
    """Run `python -m pyve ARGS` in the project: pyve("build", input="y\\n", env={"CI": "1"})."""

    def run(*args: str, input: str | None = "", env: dict[str, str] | None = None,
            cwd: Path | None = None, check: bool | None = None) -> Result:
        full_env = {**sandbox_env, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "pyve", *args], cwd=cwd or project, env=full_env,
            input=input, capture_output=True, text=True, timeout=300,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check is True and proc.returncode != 0:
            raise AssertionError(f"pyve {' '.join(args)} failed:\n{result.output}")
        return result

    return run
