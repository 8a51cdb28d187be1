"""A requirement taken out is taken out of the env (and so of the lock); conda's own packages
stay, and so does a package installed by hand (tests/e2e/test_env_changed_outside.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, python_env
from tests.support.helpers import installed, locked, stage_line


def test_removed_requirement_leaves_env_and_lock(project: Path, pyve: PyveRunner,
                                                  sandbox_env: dict[str, str]) -> None:
    (project / "requirements.txt").write_text("beta\n")  # beta requires alpha
    pyve("init", "--auto-install-deps", check=True)
    venv = project / ".venv"
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "gamma"],
                   check=True, env=sandbox_env)
    (project / "requirements.txt").write_text("alpha\n")
    result = pyve("build", check=True)
    assert "removed beta: no longer required" in result.stdout
    assert " ran " in stage_line(result.stdout, "pip-deps")
    assert "kept gamma 0.1: installed by hand, not in requirements.txt" in result.stdout
    assert {"alpha", "gamma"} <= installed(venv) and "beta" not in installed(venv)
    assert locked(project) == {"alpha"}  # the lock holds what the requirements ask, no more
    assert "no longer required" not in pyve("build", "--force", check=True).stdout


def test_uv_installer_removes_too(project: Path, pyve: PyveRunner) -> None:
    from pyve.errors import PyveError
    from pyve.installers.uv import uv_bin

    try:
        uv_bin()
    except PyveError:
        pytest.skip("uv is not installed")
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "uv"}, check=True)
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("build", env={"PYVE_INSTALLER": "uv"}, check=True)
    assert "removed alpha, beta: no longer required" in result.stdout
    assert installed(project / ".venv") == {"gamma", "pip"}  # pip stays, as under pip
    assert locked(project) == {"gamma"}


def test_a_requirement_without_a_name_removes_nothing(project: Path, pyve: PyveRunner,
                                                      wheelhouse: Path) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    # a bare wheel path: its name is known only to pip, so pyve cannot tell what is needed
    (project / "requirements.txt").write_text(f"{wheelhouse / 'gamma-0.1-py3-none-any.whl'}\n")
    result = pyve("build", check=True)
    assert "no longer required" not in result.stdout
    assert {"alpha", "beta", "gamma"} <= installed(project / ".venv")


@linux_only
def test_conda_pip_section_removed_line(project: Path, pyve: PyveRunner,
                                        local_channel: Path) -> None:
    python_env(project, local_channel, pip=["beta"])
    pyve("init", check=True)
    env = only_env(project)
    assert {"alpha", "beta", "pip"} <= installed(env)
    python_env(project, local_channel, pip=["gamma"])
    result = pyve("build", check=True)
    assert "removed alpha, beta: no longer required" in result.stdout
    assert only_env(project) == env
    assert "gamma" in installed(env) and not {"alpha", "beta"} & installed(env)
    assert "pip" in installed(env)  # conda's pip stays
    assert "beta" not in (project / "conda-lock.yml").read_text()


def test_without_uv_pip_uninstalls(project: Path, pyve: PyveRunner,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """uv is only an accelerator here: without it, pip removes the same packages."""
    from pyve.installers import prune, uv

    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    monkeypatch.setattr(uv, "find_uv", lambda: None)
    python = project / ".venv" / "bin" / "python"
    assert prune.sync(python, project, {"alpha"}) == ["beta"]
    assert "beta" not in installed(project / ".venv") and "alpha" in installed(project / ".venv")


def test_json_output_stays_one_document(project: Path, pyve: PyveRunner) -> None:
    """What pyve says for people during `build --json` (here: the removal) goes to stderr."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    (project / "requirements.txt").write_text("alpha\n")
    result = pyve("build", "--json", check=True)
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["stages"] if s["status"] == "ran"] == ["pip-deps", "freeze"]
    assert "removed beta: no longer required" in result.stderr


def test_uninstall_puts_back_the_files_a_required_package_shares(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """Two distributions of one module (opencv-python and opencv-python-headless):
    uninstalling the one no longer required (or installed by hand) deletes the files the
    required one shares; pyve reinstalls it, and doctor finds its files whole."""
    from tests.support.wheel_fixtures import build_wheel

    more = tmp_path / "shared-module"
    build_wheel(more, "vision", "1.0", module="cvmod", code="FLAVOUR = 'full'\n")
    build_wheel(more, "vision-headless", "1.0", module="cvmod", code="FLAVOUR = 'headless'\n")
    env = {"PIP_FIND_LINKS": f"{sandbox_env['PIP_FIND_LINKS']} {more}"}
    (project / "requirements.txt").write_text("vision\nvision-headless\n")
    pyve("init", "--yes", env=env, check=True)
    python = project / ".venv" / "bin" / "python"

    def flavour() -> str:
        done = subprocess.run([python, "-c", "import cvmod; print(cvmod.FLAVOUR)"],
                              capture_output=True, text=True, env=sandbox_env)
        return done.stdout.strip() or done.stderr.strip().splitlines()[-1]

    (project / "requirements.txt").write_text("vision-headless\n")
    build = pyve("build", env=env, check=True)
    assert "removed vision: no longer required" in build.stdout
    assert ("reinstalling vision-headless: uninstalling vision deleted files it shares "
            "with them") in build.stdout
    assert flavour() == "headless"
    assert pyve("doctor", "--deep", env=env).returncode == 0
    assert pyve("build", "--check", env=env).returncode == 0

    # installed by hand over the required one, then taken out by --exact
    subprocess.run([python, "-m", "pip", "install", "-q", "vision"], check=True,
                   env={**sandbox_env, **env})
    assert flavour() == "full"
    exact = pyve("build", "--exact", env=env, check=True)
    assert "reinstalling vision-headless" in exact.stdout, exact.output
    assert flavour() == "headless"
    assert pyve("doctor", "--deep", env=env).returncode == 0
