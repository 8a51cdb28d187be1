"""purge / --purge, run, status and .gitignore through the real command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import status_json, tree

MARK = "# added by pyve (pyve purge removes these lines)"


@pytest.fixture
def built(project: Path, pyve: PyveRunner) -> Path:
    (project / "requirements.txt").write_text("gamma\n")
    (project / ".gitignore").write_text("node_modules/\n*.log")  # no final newline
    os.chmod(project / ".gitignore", 0o600)
    (project / ".env").write_text("SECRET=1\n")
    (project / ".python-version").write_text("3.11\n")
    pyve("init", "--yes", check=True)
    return project


def test_gitignore_lines_added_once_mode_and_user_lines_kept(built: Path,
                                                             pyve: PyveRunner) -> None:
    gi = built / ".gitignore"
    assert gi.read_text() == f"node_modules/\n*.log\n\n{MARK}\n.venv/\n.pyve/\n"
    assert stat.S_IMODE(gi.stat().st_mode) == 0o600
    pyve("build", check=True)
    pyve("init", "--yes", check=True)
    assert gi.read_text().count(".venv/") == 1 and gi.read_text().count(MARK) == 1
    assert stat.S_IMODE(gi.stat().st_mode) == 0o600


def test_gitignore_keeps_a_users_existing_line(project: Path, pyve: PyveRunner) -> None:
    (project / ".gitignore").write_text(".venv/\n")
    pyve("init", "--yes", check=True)
    assert (project / ".gitignore").read_text() == f".venv/\n\n{MARK}\n.pyve/\n"
    pyve("purge", check=True)
    assert (project / ".gitignore").read_text() == ".venv/\n"


def test_purge_removes_only_what_pyve_made(built: Path, pyve: PyveRunner) -> None:
    dry = pyve("purge", "--dry-run", check=True)
    assert "would remove .venv/" in dry.stdout and (built / ".venv").is_dir()
    result = pyve("--purge", check=True)
    assert "Removed: .venv/" in result.stdout
    assert ".gitignore lines (.venv/, .pyve/)" in result.stdout and ".pyve/" in result.stdout
    assert sorted(p.name for p in built.iterdir()) == [
        ".env", ".gitignore", ".python-version", "pylock.toml", "pyve.toml",
        "requirements.lock.txt", "requirements.txt"]  # the locks are the project's to commit
    assert (built / ".env").read_text() == "SECRET=1\n"
    # the exact bytes: a file without a final newline once gained one after init + purge
    assert (built / ".gitignore").read_bytes() == b"node_modules/\n*.log"
    assert stat.S_IMODE((built / ".gitignore").stat().st_mode) == 0o600
    before = tree(built)
    again = pyve("purge", check=True)
    assert "Nothing to remove" in again.stdout
    assert tree(built) == before  # not even an empty .pyve/
    # and the project builds again from what was kept
    assert "python 3.11." in pyve("build", check=True).stdout


def test_purge_leaves_a_venv_it_did_not_make_as_folder(project: Path, pyve: PyveRunner,
                                                       tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "bin").mkdir(parents=True)
    (elsewhere / "pyvenv.cfg").write_text("home = /usr\n")
    (project / ".venv").symlink_to(elsewhere)
    result = pyve("purge", check=True)
    assert "Nothing to remove" in result.stdout
    assert (project / ".venv").is_symlink() and (elsewhere / "pyvenv.cfg").exists()


def test_run_exit_code_and_arguments_pass_through(built: Path, pyve: PyveRunner) -> None:
    for code in (0, 3, 42):
        result = pyve("run", "python", "-c", f"import sys, gamma; sys.exit({code})")
        assert result.returncode == code, result.output
    result = pyve("run", "python", "-c", "import sys; print(sys.argv[1:])", "a b", "--yes")
    assert result.stdout.strip() == "['a b', '--yes']"
    assert pyve("run", "pip", "--version").stdout.count(str(built / ".venv")) == 1


def test_run_errors(project: Path, pyve: PyveRunner) -> None:
    result = pyve("run")
    assert result.returncode == 2 and "needs a command" in result.stderr
    result = pyve("run", "python", "-c", "pass")
    assert result.returncode == 1 and "`pyve init`" in result.stderr
    assert tree(project) == {}


def test_run_unknown_command(built: Path, pyve: PyveRunner) -> None:
    result = pyve("run", "no-such-command-xyz")
    assert result.returncode == 1
    assert "command not found in the environment: no-such-command-xyz" in result.stderr


def test_status_text_and_json(built: Path, pyve: PyveRunner) -> None:
    text = pyve("status", check=True).stdout
    assert "backend: venv  (pyve.toml says venv)" in text
    assert "python:  3.11." in text and "(.python-version says 3.11)" in text
    assert f"env:     {built / '.venv'}" in text and "not created yet" not in text
    for stage in ("detect", "create-env", "pip-deps", "freeze"):
        assert f"  {stage:<11} up to date" in text
    (built / "requirements.txt").write_text("gamma\nalpha\n")
    data = status_json(pyve("status", "--json"))
    stages = {s["name"]: s for s in data["stages"]}
    assert stages["create-env"]["status"] == "up-to-date"
    assert stages["pip-deps"]["status"] == "stale"
    assert stages["pip-deps"]["reasons"] == ["requirements.txt changed"]
    assert stages["freeze"]["status"] == "stale" and stages["freeze"]["reasons"]
    assert data["env"] == str(built / ".venv") and data["pip_sources"] == ["requirements.txt"]


def test_status_before_any_build_writes_nothing(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    text = pyve("status", check=True).stdout
    assert "not created yet" in text and "first build" in text
    assert sorted(tree(project)) == ["requirements.txt"]


def test_run_refuses_a_pip_from_outside_the_env(project: Path, pyve: PyveRunner,
                                                sandbox_env: dict[str, str],
                                                tmp_path: Path) -> None:
    """A venv without a pip command (an older pyve's uv venv, or a Python with no bundled pip
    wheel): the next pip on PATH would install into another Python."""
    from pyve.installers.uv import find_uv

    if find_uv() is None:
        pytest.skip("uv is not installed")
    (project / "requirements.txt").write_text("gamma\n")
    uv = {"PYVE_INSTALLER": "uv"}
    pyve("init", "--auto-install-deps", env=uv, check=True)
    for script in (project / ".venv" / "bin").glob("pip*"):
        script.unlink()
    host = tmp_path / "host-bin"
    host.mkdir()
    (host / "pip").write_text(f"#!/bin/sh\ntouch {tmp_path / 'host-pip-ran'}\n")
    (host / "pip").chmod(0o755)
    path = {"PATH": f"{host}:{sandbox_env['PATH']}"}
    for env in ({**uv, **path}, {**uv, **path, "PYVE_NO_FAST": "1"}):  # fast and full path
        result = pyve("run", "pip", "install", "alpha", env=env)
        assert result.returncode == 1, result.output
        assert "the environment has no pip" in result.stderr
        assert "uv pip install --python" in result.stderr
    assert not (tmp_path / "host-pip-ran").exists()


def test_run_after_a_failed_init_says_the_build_failed(project: Path, pyve: PyveRunner,
                                                       local_channel: Path) -> None:
    (project / "environment.yml").write_text(
        f"channels: [{local_channel}]\ndependencies:\n  - no-such-package\n")
    assert pyve("init", "--yes").returncode != 0  # the solve fails: no env is made
    result = pyve("run", "python", "-c", "pass")
    assert result.returncode != 0
    assert "the last build did not finish" in result.stderr
    assert "run `pyve build` to finish it and see what failed" in result.stderr
    assert "`pyve -v build` shows every command's output" in result.stderr
    assert "pyve init` first" not in result.stderr
