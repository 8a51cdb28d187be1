"""`pyve init --force` and backend switches that would remove an environment (the basic
switch recipes are in test_conda_switching.py). The rule: ask first, default no; --yes
accepts; CI without --yes refuses; with no old environment on disk there is nothing to ask."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import env_dirs, python_env

QUESTION = "Switch from venv to micromamba? The old environment will be removed. [y/N]:"


def test_init_force_rebuilds_and_says_what(venv_project: Path, pyve: PyveRunner) -> None:
    marker = (venv_project / ".venv" / ".pyve-env.json").read_text()
    result = pyve("init", "--force", check=True)
    assert "Rebuilt .venv/ from scratch (python " in result.stdout
    assert "requirements.txt)" in result.stdout
    assert (venv_project / ".venv" / ".pyve-env.json").read_text() != marker  # really new
    assert "up to date" not in result.stdout


@linux_only
def test_switch_refused_in_ci_without_yes(venv_project: Path, pyve: PyveRunner,
                                          local_channel: Path) -> None:
    python_env(venv_project, local_channel, pip=[])
    result = pyve("init", "--backend", "micromamba", env={"CI": "1"})
    assert result.returncode == 1
    assert "pass --yes" in result.stderr
    assert (venv_project / ".venv" / "pyvenv.cfg").is_file()
    assert 'backend = "venv"' in (venv_project / "pyve.toml").read_text()
    assert not env_dirs(venv_project)


@linux_only
@pytest.mark.parametrize("answer", ["\n", "n\n", ""])  # Enter, no, end of input
def test_switch_prompt_defaults_to_no(venv_project: Path, pyve: PyveRunner,
                                      local_channel: Path, answer: str) -> None:
    python_env(venv_project, local_channel, pip=[])
    result = pyve("init", "--backend", "micromamba", "--auto-install-deps", input=answer)
    assert QUESTION in result.stdout
    assert result.stdout.count("[y/N]") == 1  # asked once
    assert result.returncode == 1 and "kept the venv backend" in result.stderr
    assert (venv_project / ".venv" / "pyvenv.cfg").is_file()
    assert 'backend = "venv"' in (venv_project / "pyve.toml").read_text()


@linux_only
def test_switch_yes_removes_old_env_both_ways(venv_project: Path, pyve: PyveRunner,
                                              local_channel: Path) -> None:
    python_env(venv_project, local_channel, pip=[])
    result = pyve("init", "--backend", "micromamba", "--auto-install-deps", input="y\n",
                  check=True)
    assert QUESTION in result.stdout and "Removed the old environment: .venv/" in result.stdout
    assert not (venv_project / ".venv").exists()
    assert len(env_dirs(venv_project)) == 1
    assert 'backend = "micromamba"' in (venv_project / "pyve.toml").read_text()

    result = pyve("init", "--backend", "venv", "--yes", env={"CI": "1"}, check=True)
    assert "Removed the old environment: .pyve/envs/" in result.stdout
    assert not env_dirs(venv_project)
    assert not list((venv_project / ".pyve" / "envs").glob("*"))  # solution files too
    assert (venv_project / ".venv" / "pyvenv.cfg").is_file()


@linux_only
def test_no_question_after_purge(venv_project: Path, pyve: PyveRunner,
                                 local_channel: Path) -> None:
    """The Backends Guide's recipe: purge, then init with the other backend -- no prompt."""
    pyve("--purge", check=True)
    python_env(venv_project, local_channel, pip=[])
    result = pyve("--init", "--backend", "micromamba", "--auto-install-deps", input="",
                  check=True)
    assert "[y/N]" not in result.stdout
    assert len(env_dirs(venv_project)) == 1


def test_venv_not_made_by_pyve_is_never_removed(project: Path) -> None:
    """A .venv without pyve's marker is not pyve's: a switch never counts it as the old
    environment, so never removes it."""
    from pyve.project import Project
    from pyve.switching import leftovers

    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /nowhere\n")
    assert leftovers(Project.load(project), "venv") == []


# --- a .venv pyve did not make: refused; --force replaces it after asking -----------------

def _user_venv(project: Path) -> Path:
    import subprocess

    (project / "requirements.txt").write_text("beta\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", project / ".venv"],
                   check=True)
    (project / ".venv" / "NOTES.txt").write_text("mine\n")
    return project / ".venv"


@pytest.mark.parametrize("command", [("build",), ("init",), ("run", "python", "-c", "1")])
def test_a_venv_pyve_did_not_make_is_never_replaced_silently(
        project: Path, pyve: PyveRunner, command: tuple[str, ...]) -> None:
    """`pyve build` replaced the user's .venv (same Python or not) without a word."""
    venv = _user_venv(project)
    result = pyve(*command)
    assert result.returncode == 1, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "pyve did not make; pyve will not replace it" in errors[0]
    assert "pyve build --force` replaces it" in result.stderr
    assert (venv / "NOTES.txt").read_text() == "mine\n"
    assert not (venv / ".pyve-env.json").exists()


def test_force_asks_before_replacing_a_venv_pyve_did_not_make(
        project: Path, pyve: PyveRunner) -> None:
    venv = _user_venv(project)
    question = "virtual environment pyve did not make. Replace it? Everything in it will " \
               "be deleted. [y/N]:"
    no = pyve("build", "--force", input="\n")  # Enter: the default, no
    assert no.returncode == 1 and question in no.stdout, no.output
    assert "kept .venv; nothing changed" in no.stderr
    ci = pyve("build", "--force", env={"CI": "1"})  # CI never replaces on a default
    assert ci.returncode == 1 and "only with --yes" in ci.stderr, ci.output
    assert (venv / "NOTES.txt").is_file()
    yes = pyve("build", "--force", input="y\n")
    assert yes.returncode == 0, yes.output
    assert "Removed .venv/ (python " in yes.stdout
    assert not (venv / "NOTES.txt").exists() and (venv / ".pyve-env.json").is_file()
    # from now on it is pyve's: a forced rebuild asks nothing
    again = pyve("build", "--force", env={"CI": "1"})
    assert again.returncode == 0 and "[y/N]" not in again.stdout, again.output


def test_force_yes_in_ci_replaces_but_never_a_folder_that_is_no_venv(
        project: Path, pyve: PyveRunner) -> None:
    venv = _user_venv(project)
    result = pyve("init", "--force", "--yes", env={"CI": "1"})
    assert result.returncode == 0, result.output
    assert (venv / ".pyve-env.json").is_file()
    pyve("purge", check=True)
    (project / ".venv").mkdir()
    (project / ".venv" / "data.csv").write_text("1,2\n")
    refused = pyve("build", "--force", "--yes")
    assert refused.returncode == 1 and "not a virtual environment" in refused.stderr
    assert (project / ".venv" / "data.csv").is_file()


def test_a_venv_pyve_began_to_make_is_still_pyves(venv_project: Path, pyve: PyveRunner) -> None:
    """Killed while making .venv (no marker yet): the next build finishes, never calls the
    half-made .venv foreign."""
    (venv_project / ".venv" / ".pyve-env.json").unlink()
    (venv_project / ".pyve" / "creating-venv").write_text("1\n")
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert (venv_project / ".venv" / ".pyve-env.json").is_file()
    assert not (venv_project / ".pyve" / "creating-venv").exists()


@linux_only
@pytest.mark.parametrize("answer", ["--yes", "y\n"])
def test_a_switch_that_cannot_build_keeps_the_old_env(venv_project: Path, pyve: PyveRunner,
                                                      local_channel: Path,
                                                      answer: str) -> None:
    """`pyve init --backend micromamba --yes` whose conda solve fails (a package the channel
    does not have): the old .venv is still there and still the project's -- pyve.toml,
    `pyve run` and a no-op build say venv -- and the output says it was kept. The switch
    then happens once the new env builds, and only then is .venv removed."""
    config = (venv_project / "pyve.toml").read_bytes()
    python_env(venv_project, local_channel, pip=[], deps=("no-such-conda-package",))
    args = ("--yes",) if answer == "--yes" else ()
    result = pyve("init", "--backend", "micromamba", *args,
                  input="" if args else answer)
    assert result.returncode == 1, result.output
    assert "Kept the venv environment (.venv/) and pyve.toml as they were" in result.output
    assert "Removed the old environment" not in result.output
    assert (venv_project / ".venv" / "pyvenv.cfg").is_file()
    assert (venv_project / "pyve.toml").read_bytes() == config
    run = pyve("run", "python", "-c", "import alpha, sys; print(sys.prefix)")
    assert run.returncode == 0 and run.stdout.strip() == str(venv_project / ".venv"), run.output
    assert "build" not in run.stderr and "ran" not in run.stderr  # nothing rebuilt
    assert "Nothing to do" in pyve("build", check=True).stdout

    python_env(venv_project, local_channel, pip=[])  # fixed: the switch goes through
    result = pyve("init", "--backend", "micromamba", "--yes", check=True)
    assert "Removed the old environment: .venv/" in result.stdout
    assert not (venv_project / ".venv").exists() and len(env_dirs(venv_project)) == 1
