"""The micromamba backend through the real CLI: detection, the env under .pyve/envs/<hash>/,
run, purge, cache, and incremental rebuilds (offline, from the local channel)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pyve.backends.conda.backend import MARKER
from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import (
    env_dirs,
    only_env,
    python_env,
    ran,
    stage_line,
    up_to_date,
    write_envfile,
)

pytestmark = linux_only


# --- detection --------------------------------------------------------------------------

def test_environment_yml_selects_micromamba(project: Path, pyve: PyveRunner,
                                            local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    result = pyve("init", check=True)
    assert "micromamba backend (environment.yml found)" in result.stdout
    assert not (project / ".venv").exists()
    env = only_env(project)
    assert (env / "share" / "bar" / "0.4.txt").is_file()
    assert 'backend = "micromamba"' in (project / "pyve.toml").read_text()


@pytest.mark.parametrize("answer", ["y\n", "\n"])
def test_ambiguous_prompt_default_is_micromamba(project: Path, pyve: PyveRunner,
                                                local_channel: Path, answer: str) -> None:
    write_envfile(project, local_channel, ["bar"])
    (project / "pyproject.toml").write_text("[tool.black]\nline-length = 99\n")
    result = pyve("init", input=answer, check=True)
    assert "Initialize with micromamba backend? [Y/n]" in result.stdout
    assert "environment.yml" in result.stdout and "pyproject.toml" in result.stdout
    assert "micromamba backend (you chose micromamba at the prompt)" in result.stdout
    assert (only_env(project) / "conda-meta").is_dir()
    assert not (project / ".venv").exists()


def test_ambiguous_prompt_no_builds_venv(project: Path, pyve: PyveRunner,
                                         local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("init", input="n\ny\n", check=True)
    assert "venv backend (you chose venv at the prompt)" in result.stdout
    assert (project / ".venv" / "bin" / "python").exists()
    assert env_dirs(project) == []
    assert 'backend = "venv"' in (project / "pyve.toml").read_text()


def test_ci_picks_micromamba_without_prompt(project: Path, pyve: PyveRunner,
                                            local_channel: Path) -> None:
    write_envfile(project, local_channel, ["python", "bar", "pip"], platforms=["linux-64"])
    (project / "requirements.txt").write_text("gamma\n")
    (project / "pyproject.toml").write_text("[tool.black]\n")
    result = pyve("init", input=None, env={"CI": "1"}, check=True)
    assert "[Y/n]" not in result.stdout
    assert "CI is set: chose the micromamba backend" in result.output
    assert "micromamba backend" in result.stdout
    site = next((only_env(project) / "lib").glob("python3*/site-packages"))
    assert (site / "gamma").is_dir()  # requirements.txt went into the conda env (CI: yes)


def test_pyve_backend_env_var(project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("init", "--no-install-deps", env={"PYVE_BACKEND": "micromamba"}, check=True)
    assert "micromamba backend (PYVE_BACKEND says micromamba)" in result.stdout
    assert "[Y/n]" not in result.stdout.split("micromamba backend")[0]
    only_env(project)


# --- the env ------------------------------------------------------------------------------

def test_env_is_a_complete_conda_prefix(project: Path, pyve: PyveRunner,
                                        local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    env = only_env(project)
    status = pyve("status", check=True)
    assert f"env:     {env}" in status.stdout
    metas = sorted((env / "conda-meta").glob("*.json"))
    names = set()
    for meta in metas:
        data = json.loads(meta.read_text())  # every *.json there must be a package record
        assert isinstance(data.get("channel"), str) and data["channel"], meta.name
        assert data["channel"].startswith("file://"), data["channel"]
        names.add(data["name"])
    assert {"bar", "foo-py", "libfoo", "python", "pip"} <= names
    history = (env / "conda-meta" / "history").read_text()
    specs = [ln for ln in history.splitlines() if ln.startswith("# update specs:")]
    assert specs and "bar" in specs[-1] and "python" in specs[-1]
    # the pip: section went into the env, with the env's own pip
    site = next((env / "lib").glob("python3*/site-packages"))
    assert (site / "beta").is_dir() and (site / "alpha").is_dir()


def test_run_uses_env_variables_and_exit_code(project: Path, pyve: PyveRunner,
                                              local_channel: Path) -> None:
    write_envfile(project, local_channel, ["python"], platforms=["linux-64"],
                  extra="variables:\n  PYVE_TEST_VAR: hello\n")
    pyve("init", check=True)
    env = only_env(project)
    code = ("import os, sys; print(sys.prefix); print(os.environ['CONDA_PREFIX']); "
            "print(os.environ['PYVE_TEST_VAR']); sys.exit(5)")
    result = pyve("run", "python", "-c", code)
    assert result.returncode == 5, result.output
    assert result.stdout.splitlines() == [str(env), str(env), "hello"]


def test_spec_change_new_dir_and_going_back_reuses(project: Path, pyve: PyveRunner,
                                                   local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    pyve("init", check=True)
    first = only_env(project)
    write_envfile(project, local_channel, ["bar=0.3"])
    result = pyve("build", check=True)
    assert "specs ['bar'] -> ['bar=0.3']" in stage_line(result.stdout, "conda-solve")
    assert ran(result.stdout, "create-env") and ran(result.stdout, "conda-lock")
    second = [d for d in env_dirs(project) if d != first]
    assert len(second) == 1 and (second[0] / "share" / "bar" / "0.3.txt").is_file()
    assert str(second[0]) in pyve("status", check=True).stdout
    # back to the first definition: its env dir still exists and is used again
    write_envfile(project, local_channel, ["bar"])
    result = pyve("build", check=True)
    assert f"Environment: {first}" in result.stdout
    assert len(env_dirs(project)) == 2
    assert (first / "share" / "bar" / "0.4.txt").is_file()
    # purge --unused keeps the current env, removes the other
    result = pyve("purge", "--unused", check=True)
    assert "Removed 1 unused environment" in result.output
    assert env_dirs(project) == [first]
    assert not list((project / ".pyve" / "envs").glob(f"{second[0].name}*"))
    assert up_to_date(pyve("build", check=True).stdout, "create-env")


def test_purge_removes_pyve_keeps_inputs_and_lock(project: Path, pyve: PyveRunner,
                                                  local_channel: Path) -> None:
    envfile = write_envfile(project, local_channel, ["bar"])
    pyve("init", check=True)
    before = {p: (project / p).read_bytes() for p in ("environment.yml", "conda-lock.yml")}
    result = pyve("purge", check=True)
    assert ".pyve/" in result.output
    assert not (project / ".pyve").exists()
    assert envfile.is_file()
    assert {p: (project / p).read_bytes() for p in before} == before


def test_cache_clean_says_how_much(project: Path, pyve: PyveRunner,
                                   local_channel: Path, sandbox_env: dict[str, str]) -> None:
    write_envfile(project, local_channel, ["bar"])
    pyve("init", check=True)
    cache = Path(sandbox_env["XDG_CACHE_HOME"]) / "pyve" / "pkgs"
    assert cache.is_dir()
    result = pyve("cache", "clean", check=True)
    assert "freed" in result.output and "freed 0 B" not in result.output
    # the folder stays, marked as pyve's cache; the packages are gone
    assert sorted(p.name for p in cache.iterdir()) == [".pyve-package-cache", "CACHEDIR.TAG"]
    again = pyve("cache", "clean", check=True)
    assert "freed 0 B" in again.output
    # the env does not depend on the cache
    assert up_to_date(pyve("build", check=True).stdout, "create-env")



def test_cache_clean_never_empties_a_folder_pyve_did_not_mark(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """PYVE_CACHE_DIR=$HOME pyve cache clean once deleted the whole home folder. Now $HOME
    means pyve's subfolder in it; one of that name that pyve did not mark is refused."""
    from tests.support.helpers import tree

    home = Path(sandbox_env["HOME"])
    (home / "thesis.tex").write_text("years of work\n")
    (home / "photos").mkdir()
    (home / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    before = tree(home)
    result = pyve("cache", "clean", env={"PYVE_CACHE_DIR": str(home)})
    assert result.returncode == 0 and "freed 0 B" in result.output, result.output
    assert tree(home) == before
    (home / "pyve-pkgs").mkdir()
    (home / "pyve-pkgs" / "mine.txt").write_text("not pyve's\n")
    before = tree(home)
    result = pyve("cache", "clean", env={"PYVE_CACHE_DIR": str(home)})
    assert result.returncode == 1, result.output
    assert "is not a package cache pyve made" in result.stderr, result.output
    assert "Traceback" not in result.output
    assert tree(home) == before


@pytest.mark.parametrize("mode", [0o1777, 0o2775], ids=["1777", "2775"])
def test_a_cache_folder_pyve_did_not_make_is_left_as_it_is(
        project: Path, pyve: PyveRunner, local_channel: Path, tmp_path: Path,
        mode: int) -> None:
    """PYVE_CACHE_DIR naming a /tmp-like (1777) or a team's (2775) folder: pyve once
    stripped its group/world write bits and wrote packages into it that `cache clean` then
    refused to remove. Now its mode and files stay; pyve's cache is its marked subfolder."""
    from tests.support.helpers import tree

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "team-notes.txt").write_text("ours\n")
    shared.chmod(mode)
    before = tree(shared)
    write_envfile(project, local_channel, ["bar"])
    env = {"PYVE_CACHE_DIR": str(shared)}
    pyve("init", env=env, check=True)
    assert shared.stat().st_mode & 0o7777 == mode
    assert sorted(p.name for p in shared.iterdir()) == ["pyve-pkgs", "team-notes.txt"]
    ours = shared / "pyve-pkgs"
    assert (ours / "CACHEDIR.TAG").is_file() and list(ours.glob("bar-*"))
    assert ours.stat().st_mode & 0o022 == 0  # others cannot plant packages in pyve's part
    result = pyve("cache", "clean", env=env, check=True)
    assert "freed 0 B" not in result.output, result.output
    assert sorted(p.name for p in ours.iterdir()) == [".pyve-package-cache", "CACHEDIR.TAG"]
    (ours / ".pyve-package-cache").unlink()
    (ours / "CACHEDIR.TAG").unlink()
    ours.rmdir()
    assert tree(shared) == before and shared.stat().st_mode & 0o7777 == mode


# --- incremental ---------------------------------------------------------------------

def test_second_build_runs_nothing(project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    result = pyve("build", check=True)
    assert "Nothing to do" in result.stdout
    for stage in ("detect", "conda-solve", "create-env", "pip-deps", "conda-lock"):
        assert up_to_date(result.stdout, stage), result.stdout


def test_pip_only_edit_reruns_pip_and_lock_only(project: Path, pyve: PyveRunner,
                                                local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    env = only_env(project)
    python_env(project, local_channel, pip=["beta", "gamma"])
    result = pyve("build", check=True)
    for stage in ("detect", "conda-solve", "create-env"):
        assert up_to_date(result.stdout, stage), result.stdout
    assert ran(result.stdout, "pip-deps") and ran(result.stdout, "conda-lock")
    assert only_env(project) == env
    site = next((env / "lib").glob("python3*/site-packages"))
    assert (site / "gamma").is_dir()
    assert "gamma" in (project / "conda-lock.yml").read_text()


def test_deleted_env_is_rebuilt_without_resolving(project: Path, pyve: PyveRunner,
                                                  local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    env = only_env(project)
    shutil.rmtree(env)
    result = pyve("build", check=True)
    assert up_to_date(result.stdout, "conda-solve"), result.stdout
    assert "environment missing" in stage_line(result.stdout, "create-env")
    assert ran(result.stdout, "pip-deps")
    assert (env / MARKER).is_file()
    site = next((env / "lib").glob("python3*/site-packages"))
    assert (site / "beta").is_dir()


def test_unfinished_env_is_never_up_to_date(project: Path, pyve: PyveRunner,
                                            local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    pyve("init", check=True)
    env = only_env(project)
    # What an interrupted install leaves: no marker, a package half-linked (its files
    # partly there, no conda-meta record yet).
    (env / MARKER).unlink()
    (env / "conda-meta" / "bar-0.4-0.json").unlink()
    (env / "share" / "bar" / "0.4.txt").unlink()
    assert "create-env  stale" in pyve("status", check=True).stdout
    result = pyve("build", check=True)
    assert ran(result.stdout, "create-env"), result.stdout
    assert (env / MARKER).is_file() and (env / "share" / "bar" / "0.4.txt").is_file()


def test_failed_install_leaves_no_env(project: Path, pyve: PyveRunner, local_channel: Path,
                                      tmp_path: Path) -> None:
    # A package that vanished from the channel after the solve: the install fails midway.
    channel = shutil.copytree(local_channel, tmp_path / "chan")
    write_envfile(project, channel, ["bar"])
    pyve("init", check=True)
    env = only_env(project)
    shutil.rmtree(env)
    (channel / "noarch" / "foo-py-1.5-0.tar.bz2").unlink()
    result = pyve("build")
    assert result.returncode != 0 and "Traceback" not in result.output
    assert "foo-py-1.5-0.tar.bz2" in result.stderr
    assert not env.exists() or not (env / MARKER).exists()
    # the package is back: the next build installs, it does not take the env as finished
    shutil.rmtree(channel)
    shutil.copytree(local_channel, channel)
    result = pyve("build", check=True)
    assert ran(result.stdout, "create-env")
    assert (env / MARKER).is_file()
