"""Switching backends as the Backends Guide's "Switching Backends" describes, with the
Guide's own spellings (`pyve --purge`, `pyve --init --backend ...`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import PyveRunner, linux_only, write_tiny_project
from tests.support.conda_helpers import assert_valid_lock, env_dirs, only_env, write_envfile

pytestmark = linux_only


def test_venv_to_micromamba_and_back(project: Path, pyve: PyveRunner,
                                     local_channel: Path) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("--init", "--auto-install-deps", check=True)
    assert (project / ".venv" / "bin" / "python").exists()

    # venv -> micromamba
    result = pyve("--purge", check=True)
    assert not (project / ".venv").exists() and not (project / ".pyve").exists()
    assert "Traceback" not in result.output
    write_envfile(project, local_channel, ["python", "bar", "pip"], platforms=["linux-64"])
    result = pyve("--init", "--backend", "micromamba", check=True)
    assert "micromamba backend (--backend says micromamba)" in result.stdout
    assert not (project / ".venv").exists()
    env = only_env(project)
    out = subprocess.run([env / "bin" / "python", "-c",
                          "import sys, gamma; print(sys.prefix)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(env)
    assert 'backend = "micromamba"' in (project / "pyve.toml").read_text()
    assert_valid_lock(project / "conda-lock.yml")

    # micromamba -> venv
    pyve("--purge", check=True)
    assert not (project / ".pyve").exists()
    assert (project / "environment.yml").is_file() and (project / "conda-lock.yml").is_file()
    result = pyve("--init", "--backend", "venv", check=True)
    assert "venv backend (--backend says venv)" in result.stdout
    assert env_dirs(project) == []
    subprocess.run([project / ".venv" / "bin" / "python", "-c", "import gamma"], check=True)
    assert 'backend = "venv"' in (project / "pyve.toml").read_text()
    assert "Nothing to do" in pyve("build", check=True).stdout


def test_init_micromamba_without_envfile_writes_default(project: Path, pyve: PyveRunner,
                                                        multi_channel: Path) -> None:
    result = pyve("--init", "--backend", "micromamba",
                  env={"PYVE_DEFAULT_CHANNEL": str(multi_channel)}, check=True)
    assert "Created environment.yml" in result.output
    data = yaml.safe_load((project / "environment.yml").read_text())
    assert data["channels"] == [str(multi_channel)]
    assert {str(d).split("=")[0] for d in data["dependencies"]} == {"python", "pip"}
    env = only_env(project)
    assert (env / "bin" / "python").exists() and (env / "conda-meta" / "history").is_file()
    assert_valid_lock(project / "conda-lock.yml")
    # the env file is the user's now: a second init leaves it alone
    (project / "environment.yml").write_text(
        (project / "environment.yml").read_text().replace("  - pip\n", "  - pip\n  - bar\n"))
    before = (project / "environment.yml").read_bytes()
    pyve("--init", "--backend", "micromamba",
         env={"PYVE_DEFAULT_CHANNEL": "/nonexistent"}, check=True)
    assert (project / "environment.yml").read_bytes() == before
    assert (only_env_with_bar(project) / "share" / "bar").is_dir()


def only_env_with_bar(project: Path) -> Path:
    return next(d for d in env_dirs(project) if (d / "share" / "bar").is_dir())


def test_removing_the_conda_files_goes_back_to_venv(project: Path, pyve: PyveRunner,
                                                    local_channel: Path) -> None:
    """The Guide's "Option 4: Remove unused file": with environment.yml (and the lock pyve
    wrote) gone, `pyve --init` uses venv, though pyve.toml recorded micromamba. The old env
    goes only when the user says so."""
    write_tiny_project(project)
    write_envfile(project, local_channel, ["python", "bar", "pip"], platforms=["linux-64"])
    pyve("--init", input="\n\n", check=True)  # the prompt's default: micromamba
    assert 'backend = "micromamba"' in (project / "pyve.toml").read_text()
    (project / "environment.yml").unlink()
    (project / "conda-lock.yml").unlink()
    kept = pyve("--init", input="\n")  # "Switch ...? [y/N]": Enter keeps micromamba
    assert kept.returncode == 1 and "kept the micromamba backend" in kept.output
    assert not (project / "environment.yml").exists() and len(env_dirs(project)) == 1
    result = pyve("--init", input="y\n", check=True)
    assert ("venv backend (pyve.toml said micromamba, but no conda file is left; "
            "pyproject.toml found)") in result.stdout
    assert env_dirs(project) == [] and (project / ".venv" / "bin" / "python").exists()
    assert not (project / "environment.yml").exists()
    assert 'backend = "venv"' in (project / "pyve.toml").read_text()
