"""An env changed behind pyve's back is stale, and a build puts it back (issue 12, item 1);
a damaged env is never fresh (issue 11, item 7). Both through the fast path and the full one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, python_env, write_envfile
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


@linux_only
def test_conda_reasons_say_what_pyve_changed(project: Path, pyve: PyveRunner,
                                             local_channel: Path) -> None:
    """"env changed outside pyve" only for a change made outside pyve: new specs make a new
    env (its own folder), and a stage after one that re-made the env finds it changed by
    pyve. Reasons name no file of pyve's own."""
    python_env(project, local_channel)  # python, bar, pip + pip: beta
    pyve("init", "--yes", check=True)
    first = only_env(project)
    python_env(project, local_channel, deps=("bar", "baz"))
    status = pyve("status", check=True).stdout
    for stage in ("create-env", "pip-deps"):
        assert "(new environment: specs changed)" in stage_line(status, stage), status
    build = pyve("build", check=True).stdout
    for stage in ("create-env", "pip-deps"):
        assert "(new environment: specs changed; " in stage_line(build, stage), build
    python_env(project, local_channel)  # back to the first env, still on disk
    assert "(new environment: specs changed)" in stage_line(
        pyve("status", check=True).stdout, "create-env")
    build = pyve("build", check=True).stdout
    assert "new environment: specs changed" in stage_line(build, "create-env"), build
    # pyve re-makes the env (its marker is damaged): the pip packages went with it
    (first / "conda-meta" / "pyve-env.marker").write_text("garbage")
    build = pyve("build", check=True).stdout
    assert stage_line(build, "pip-deps").endswith("(create-env re-ran)"), build
    # the solution's file: missing, then damaged
    solution = first.parent / f"{first.name}.solution.json"
    solution.unlink()
    assert stage_line(pyve("status", check=True).stdout, "create-env").endswith(
        "(after conda-solve)")
    pyve("build", check=True)
    solution.write_text("not json")
    build = pyve("build", check=True).stdout
    assert stage_line(build, "conda-solve").endswith("(the recorded solve is damaged)"), build
    for text in (build, status):
        assert "outside pyve" not in text and "solution.json" not in text, text


@linux_only
def test_a_conda_package_that_is_a_distribution_is_named_once(
        project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    """pip is a conda package and a distribution: removed, it is said once."""
    write_envfile(project, local_channel, ["python", "pip"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)  # no pip stage: create-env watches both
    prefix = only_env(project)
    next((prefix / "conda-meta").glob("pip-*.json")).unlink()
    shutil.rmtree(next(prefix.glob("lib/python*/site-packages/pip-*.dist-info")))
    line = stage_line(pyve("status", check=True).stdout, "create-env")
    assert line.endswith("(env changed outside pyve: pip removed)"), line


def test_guide_flow_pip_install_then_freeze_keeps_the_package(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """The Backends Guide: `pip install x` then `pip freeze > requirements.txt`."""
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    (venv_project / "requirements.txt").write_text("alpha==2.0\ngamma==0.1\n")
    build = pyve("build", check=True)
    assert "removed" not in build.output
    assert py(venv_project, "import gamma").returncode == 0
    assert pyve("build", "--check").returncode == 0
