"""An env changed behind pyve's back is stale, and a build puts it back (issue 12, item 1);
a damaged env is never fresh (issue 11, item 7). Both through the fast path and the full one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, python_env
from tests.support.helpers import py, stage_line


def _pip(python: Path, sandbox_env: dict[str, str], *args: str) -> None:
    subprocess.run([python, "-m", "pip", *args], env=sandbox_env, check=True,
                   capture_output=True, text=True)


def _version(project: Path, name: str) -> str:
    return py(project, f"import {name}; print({name}.__version__)").stdout.strip()


def test_pip_install_behind_pyves_back(venv_project: Path, pyve: PyveRunner,
                                       sandbox_env: dict[str, str]) -> None:
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    check = pyve("build", "--check")
    assert check.returncode == 1, check.output
    assert "stale: pip-deps: env changed outside pyve: gamma installed" in check.stdout
    build = pyve("build", check=True)
    assert "env changed outside pyve: gamma installed" in stage_line(build.stdout, "pip-deps")
    assert "removed gamma" in build.output
    assert py(venv_project, "import gamma").returncode != 0
    assert pyve("build", "--check").returncode == 0


def test_version_changed_and_package_removed_are_put_back(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    assert _version(venv_project, "alpha") == "2.0"
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "alpha==1.0")
    check = pyve("build", "--check")
    assert "env changed outside pyve: alpha 2.0 -> 1.0" in check.stdout
    pyve("build", check=True)
    assert _version(venv_project, "alpha") == "2.0"
    _pip(venv_project / ".venv/bin/python", sandbox_env, "uninstall", "--yes", "alpha")
    assert "env changed outside pyve: alpha removed" in pyve("build", "--check").stdout
    pyve("build", check=True)
    assert _version(venv_project, "alpha") == "2.0"


def test_pyve_run_brings_a_changed_env_back_first(venv_project: Path, pyve: PyveRunner,
                                                  sandbox_env: dict[str, str]) -> None:
    pyve("run", "python", "-m", "pip", "install", "--quiet", "gamma", check=True)
    result = pyve("run", "python", "-c", "import gamma")
    assert result.returncode != 0 and "env changed outside pyve: gamma installed" in result.stderr


def test_env_without_pip_stage_is_watched_too(project: Path, pyve: PyveRunner,
                                              sandbox_env: dict[str, str]) -> None:
    pyve("init", "--yes", check=True)  # no requirements: create-env is the last stage
    _pip(project / ".venv/bin/python", sandbox_env, "install", "gamma")
    check = pyve("build", "--check")
    assert "stale: create-env: env changed outside pyve: gamma installed" in check.stdout
    pyve("build", check=True)
    assert py(project, "import gamma").returncode != 0


def test_missing_pyvenv_cfg_is_damage(venv_project: Path, pyve: PyveRunner) -> None:
    (venv_project / ".venv" / "pyvenv.cfg").unlink()
    check = pyve("build", "--check")
    assert check.returncode == 1
    assert "stale: create-env: .venv/pyvenv.cfg is missing" in check.stdout
    pyve("build", check=True)
    assert py(venv_project, "import alpha").returncode == 0
    assert pyve("build", "--check").returncode == 0




@linux_only
def test_conda_env_changed_outside(project: Path, pyve: PyveRunner, local_channel: Path,
                                   sandbox_env: dict[str, str]) -> None:
    python_env(project, local_channel)  # python, bar, pip + pip: beta
    pyve("init", "--yes", check=True)
    prefix = only_env(project)
    record = next((prefix / "conda-meta").glob("bar-*.json"))
    saved = record.read_bytes()
    record.unlink()  # what `micromamba remove bar` does to the records
    _pip(prefix / "bin" / "python", sandbox_env, "install", "gamma")
    check = pyve("build", "--check")
    assert "stale: create-env: env changed outside pyve: bar removed" in check.stdout
    assert check.returncode == 1
    pyve("build", check=True)
    assert record.read_bytes() == saved or record.is_file()
    site = next((prefix / "lib").glob("python*/site-packages"))
    assert not (site / "gamma").exists()
    assert pyve("build", "--check").returncode == 0
    # damage: conda-meta gone (pyve's marker lives there too)
    os.rename(prefix / "conda-meta", prefix / "conda-meta.gone")
    assert "stale: create-env: env changed outside pyve" in pyve("build", "--check").stdout


def test_guide_flow_pip_install_then_freeze_keeps_the_package(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """The Backends Guide: `pip install x` then `pip freeze > requirements.txt`."""
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    (venv_project / "requirements.txt").write_text("alpha==2.0\ngamma==0.1\n")
    build = pyve("build", check=True)
    assert "removed" not in build.output
    assert py(venv_project, "import gamma").returncode == 0
    assert pyve("build", "--check").returncode == 0
