"""`pyve shell-hook` in real shells, and the direnv .envrc that `pyve init` writes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import python_env
from tests.support.direnv_stubs import DIRENV_STUBS

PROBE = 'echo "VENV=$VIRTUAL_ENV"; echo "PY=$(command -v python)"; echo "SECRET=$SECRET"'


def _shell_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    # pyve (for `eval "$(pyve shell-hook)"`) is this interpreter's module: put a `pyve` on PATH
    return {k: v for k, v in sandbox_env.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}


@pytest.fixture
def pyve_bin(tmp_path: Path) -> Path:
    """A `pyve` executable for shells: runs this interpreter's pyve."""
    bindir = tmp_path / "pyvebin"
    bindir.mkdir()
    script = bindir / "pyve"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m pyve "$@"\n')
    script.chmod(0o755)
    return bindir


def _run(shell: str, code: str, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run([shell, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_eval_shell_hook_activates_venv(venv_project: Path, pyve_bin: Path, shell: str,
                                        sandbox_env: dict[str, str]) -> None:
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed")
    env = {**_shell_env(sandbox_env), "PATH": f"{pyve_bin}:{os.environ['PATH']}"}
    got = _run(shell, f'eval "$(pyve shell-hook --shell {shell})"; {PROBE}; '
               'python -c "import alpha, sys; print(\'PREFIX=\' + sys.prefix)"',
               venv_project, env)
    assert got["VENV"] == str(venv_project / ".venv")
    assert got["PY"] == str(venv_project / ".venv" / "bin" / "python")
    assert got["PREFIX"] == str(venv_project / ".venv")


def test_fish_shell_hook(venv_project: Path, pyve: PyveRunner,
                         sandbox_env: dict[str, str]) -> None:
    if not shutil.which("fish"):
        pytest.skip("fish is not installed")
    hook = pyve("shell-hook", "--shell", "fish", check=True).stdout
    assert "set -gx VIRTUAL_ENV" in hook
    done = subprocess.run(["fish", "-c", hook + "; command -v python; echo $VIRTUAL_ENV"],
                          env=_shell_env(sandbox_env), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(venv_project / ".venv/bin/python"),
                                   str(venv_project / ".venv")]


def test_shell_hook_quotes_values(tmp_path: Path) -> None:
    from pyve.activation import render_hook

    tricky = {"NOTE": "it's $HOME `x` \"q\" \\", "PATH": "/a b/bin:", "BAD NAME": "x"}
    for shell in ("bash", "zsh"):
        if not shutil.which(shell):
            continue
        script = render_hook(tricky, shell) + 'printf "%s\\n" "$NOTE" "${PATH%%:*}"'
        out = subprocess.run([shell, "-c", script], capture_output=True, text=True,
                             check=True).stdout.splitlines()
        assert out == [tricky["NOTE"], "/a b/bin"]
        assert "BAD NAME" not in render_hook(tricky, shell)
    if shutil.which("fish"):
        script = render_hook(tricky, "fish") + '; printf "%s\\n" "$NOTE" $PATH[1]'
        out = subprocess.run(["fish", "-c", script], capture_output=True, text=True,
                             check=True).stdout.splitlines()
        assert out == [tricky["NOTE"], "/a b/bin"]


def test_shell_hook_without_env_fails_cleanly(project: Path, pyve: PyveRunner) -> None:
    result = pyve("shell-hook")
    assert result.returncode == 1 and result.stdout == ""
    assert "pyve init" in result.stderr


@linux_only
def test_shell_hook_conda_exports_variables(project: Path, pyve: PyveRunner,
                                            local_channel: Path) -> None:
    python_env(project, local_channel, pip=[], extra="variables:\n  GREETING: \"hi 'there'\"\n")
    pyve("init", "--backend", "micromamba", "--yes", check=True)
    hook = pyve("shell-hook", "--shell", "bash", check=True).stdout
    got = _run("bash", hook + 'echo "G=$GREETING"; echo "P=$CONDA_PREFIX"; '
               'echo "PY=$(command -v python)"', project, {"PATH": os.environ["PATH"]})
    assert got["G"] == "hi 'there'"
    assert got["P"].startswith(str(project / ".pyve" / "envs"))
    assert got["PY"] == got["P"] + "/bin/python"


# --- .envrc ---------------------------------------------------------------------------------

def _source_envrc(envrc: Path, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    rel = os.path.relpath(envrc, cwd)
    return _run("bash", DIRENV_STUBS + f'source "{rel}"; {PROBE}', cwd, env)


def test_envrc_works_from_subfolder_and_after_move(venv_project: Path, tmp_path: Path,
                                                   sandbox_env: dict[str, str]) -> None:
    envrc = venv_project / ".envrc"
    text = envrc.read_text()
    assert str(venv_project) not in text and str(tmp_path) not in text  # nothing baked in
    (venv_project / ".env").write_text("SECRET=s3cr3t\n")
    sub = venv_project / "src" / "deep"
    sub.mkdir(parents=True)
    env = _shell_env(sandbox_env)
    got = _source_envrc(envrc, sub, env)
    assert got["VENV"] == str(venv_project / ".venv")
    assert got["PY"] == str(venv_project / ".venv" / "bin" / "python")
    assert got["SECRET"] == "s3cr3t"

    moved = tmp_path / "elsewhere" / "proj2"
    moved.parent.mkdir()
    shutil.move(str(venv_project), moved)
    got = _source_envrc(moved / ".envrc", moved / "src" / "deep", env)
    assert got["VENV"] == str(moved / ".venv")
    assert got["PY"] == str(moved / ".venv" / "bin" / "python")
    got = _source_envrc(moved / ".envrc", moved, env)  # as direnv loads it: from its folder
    assert got["VENV"] == str(moved / ".venv")


def test_envrc_never_overwritten_and_no_direnv(project: Path, pyve: PyveRunner) -> None:
    (project / ".envrc").write_text("export MINE=1\n")
    pyve("init", "--yes", check=True)
    assert (project / ".envrc").read_text() == "export MINE=1\n"
    result = pyve("purge", check=True)
    assert (project / ".envrc").read_text() == "export MINE=1\n", result.output
    (project / ".envrc").unlink()
    pyve("init", "--yes", "--no-direnv", check=True)
    assert not (project / ".envrc").exists()


def test_purge_removes_only_unchanged_envrc(venv_project: Path, pyve: PyveRunner) -> None:
    envrc = venv_project / ".envrc"
    assert envrc.read_text().startswith("# pyve:")
    assert ".envrc" in pyve("purge", "--dry-run", check=True).stdout
    result = pyve("purge", check=True)
    assert not envrc.exists() and ".envrc" in result.stdout
    pyve("init", "--yes", check=True)
    envrc.write_text(envrc.read_text() + "export EXTRA=1\n")  # edited: now the user's
    pyve("purge", check=True)
    assert envrc.is_file() and "EXTRA=1" in envrc.read_text()


def test_purge_keeps_an_envrc_that_git_tracks(venv_project: Path, pyve: PyveRunner) -> None:
    """A teammate's committed .envrc equal to pyve's template is theirs: purge once removed
    it, as if pyve had written it in this clone."""
    import subprocess

    envrc = venv_project / ".envrc"
    before = envrc.read_bytes()
    git = ["git", "-C", str(venv_project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", ".envrc"], check=True)
    assert ".envrc" not in pyve("purge", "--dry-run", check=True).stdout
    result = pyve("purge", check=True)
    assert envrc.read_bytes() == before, result.output
    assert ".envrc" not in result.stdout.partition("Removed:")[2].splitlines()[0]


def test_existing_dotenv_kept(project: Path, pyve: PyveRunner) -> None:
    (project / ".env").write_text("A=1\n")
    (project / ".env").chmod(0o600)
    pyve("init", "--yes", check=True)
    assert (project / ".env").read_text() == "A=1\n"
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
