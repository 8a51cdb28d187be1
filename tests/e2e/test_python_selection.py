"""Which Python the venv gets: asked for (3.11 = newest 3.11.x, 3.11.7 exactly), else
pyve.toml, else the project's pin (.python-version, .tool-versions, requires-python), else the
running interpreter; an interpreter upgraded or removed under the venv is detected."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pyve.backends.venv.backend import read_pyvenv_cfg
from tests.conftest import PyveRunner
from tests.support.helpers import py, pyenv_python, stage_line, status_json, tree

REAL_VERSIONS = ("3.10.13", "3.11.7", "3.12.1", "3.13.0")


def venv_version(env: Path) -> str | None:
    """The Python a venv was made from: `python -m venv` writes `version`, uv `version_info`."""
    cfg = read_pyvenv_cfg(env)
    return cfg.get("version") or cfg.get("version_info")


def need(version: str) -> Path:
    exe = pyenv_python(version)
    if exe is None:
        pytest.skip(f"pyenv has no Python {version} on this machine")
    return exe


def running_version() -> str:
    return "{}.{}.{}".format(*sys.version_info[:3])


@pytest.mark.parametrize("argv", [["init", "3.11"], ["--init", "3.11"],
                                  ["init", "--python", "3.11"], ["--init", "--python=3.11"]])
def test_init_spellings_select_newest_3_11(project: Path, pyve: PyveRunner,
                                           argv: list[str]) -> None:
    need("3.11.7")
    result = pyve(*argv, "--yes", check=True)
    assert "python 3.11.7 (asked for 3.11)" in result.stdout
    assert venv_version(project / ".venv") == "3.11.7"
    assert 'python = "3.11"' in (project / "pyve.toml").read_text()


def test_exact_version_and_pip_in_venv(project: Path, pyve: PyveRunner,
                                       sandbox_env: dict[str, str]) -> None:
    need("3.12.1")
    result = pyve("init", "--python", "3.12.1", "--yes", check=True)
    assert "python 3.12.1 (asked for 3.12.1)" in result.stdout
    assert py(project, "import sys; print(sys.version_info[:3])").stdout.strip() == "(3, 12, 1)"
    assert 'python = "3.12.1"' in (project / "pyve.toml").read_text()
    # .venv has a working pip of its own
    import subprocess

    pip = subprocess.run([project / ".venv" / "bin" / "pip", "install", "gamma"],
                         env=sandbox_env, capture_output=True, text=True, check=False)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert py(project, "import gamma").returncode == 0


def test_missing_version_lists_installed_and_how_to_install(project: Path,
                                                            pyve: PyveRunner) -> None:
    result = pyve("init", "3.99", "--yes")
    assert result.returncode == 1
    assert "Python 3.99 is not installed (found:" in result.stderr
    for version in REAL_VERSIONS:
        if pyenv_python(version):
            assert version in result.stderr
    assert "pyenv install 3.99" in result.stderr
    assert tree(project) == {}


def test_invalid_version_is_usage_error(project: Path, pyve: PyveRunner) -> None:
    result = pyve("init", "three", "--yes")
    assert result.returncode == 2
    assert "invalid Python version 'three'" in result.stderr


@pytest.mark.parametrize(("files", "version", "reason"), [
    ({".python-version": "3.12\n"}, "3.12.1", ".python-version says 3.12"),
    ({".tool-versions": "nodejs 20.1.0\npython 3.10.13\n"}, "3.10.13",
     ".tool-versions says 3.10.13"),
    ({"pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                        'requires-python = ">=3.12,<3.13"\n'}, "3.12.1",
     "requires-python in pyproject.toml says >=3.12,<3.13"),
    ({".python-version": "3.13\n", ".tool-versions": "python 3.10.13\n"}, "3.13.0",
     ".python-version says 3.13"),
    ({".python-version": "3.13\n", "pyve.toml": 'python = "3.10"\n'}, "3.10.13",
     "pyve.toml says 3.10"),
])
def test_pin_shown_by_status(project: Path, pyve: PyveRunner, files: dict[str, str],
                             version: str, reason: str) -> None:
    need(version)
    for name, text in files.items():
        (project / name).write_text(text)
    data = status_json(pyve("status", "--json"))
    assert (data["python"], data["python_reason"]) == (version, reason)
    text = pyve("status", check=True).stdout
    assert f"python:  {version}  ({reason})" in text


def test_no_pin_uses_running_python(project: Path, pyve: PyveRunner) -> None:
    data = status_json(pyve("status", "--json"))
    assert data["python"] == running_version()
    assert data["python_reason"] == "the Python running pyve (no pin found)"


def test_foreign_venv_from_other_python_is_rebuilt(project: Path, pyve: PyveRunner) -> None:
    other = need("3.12.1")
    need("3.11.7")
    import subprocess

    subprocess.run([other, "-m", "venv", "--without-pip", project / ".venv"], check=True)
    # not pyve's: never replaced on a default, never reported as the env (--force replaces)
    refused = pyve("init", "3.11", "--yes")
    assert refused.returncode == 1
    assert ".venv is a python 3.12.1 virtual environment that pyve did not make" in \
        refused.stderr
    assert venv_version(project / ".venv") == "3.12.1"
    result = pyve("init", "3.11", "--yes", "--force", check=True)
    assert "Removed .venv/ (python 3.12.1, not made by pyve)" in result.stdout
    assert " ran " in stage_line(result.stdout, "create-env")
    assert venv_version(project / ".venv") == "3.11.7"
    # and switching versions later says what changed
    again = pyve("init", "3.12", "--yes", check=True)
    assert "python 3.11.7 -> 3.12.1" in stage_line(again.stdout, "create-env")
    assert "changed on disk" not in again.stdout
    assert venv_version(project / ".venv") == "3.12.1"


@pytest.fixture
def fake_pyenv(tmp_path: Path, sandbox_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A PYENV_ROOT whose versions/3.12.1/bin/python links to the real 3.12.1, and a PATH
    with no other python3.12, so renaming or removing the folder upgrades/removes 3.12."""
    real = need("3.12.1")
    root = tmp_path / "fake-pyenv"
    (root / "versions" / "3.12.1" / "bin").mkdir(parents=True)
    (root / "versions" / "3.12.1" / "bin" / "python").symlink_to(os.path.realpath(real))
    path = [d for d in sandbox_env["PATH"].split(os.pathsep)
            if d and not (Path(d) / "python3.12").exists()]
    return root, {"PYENV_ROOT": str(root), "PATH": os.pathsep.join(path)}


def test_interpreter_upgraded_or_removed_under_venv(
    project: Path, pyve: PyveRunner, fake_pyenv: tuple[Path, dict[str, str]]
) -> None:
    root, env = fake_pyenv
    result = pyve("init", "3.12", "--yes", env=env, check=True)
    assert "python 3.12.1 (asked for 3.12)" in result.stdout
    (root / "versions" / "3.12.1").rename(root / "versions" / "3.12.9")
    status = status_json(pyve("status", "--json", env=env))
    create = next(s for s in status["stages"] if s["name"] == "create-env")
    assert create["status"] == "stale" and "python 3.12.1 -> 3.12.9" in create["reasons"]
    result = pyve("build", env=env, check=True)
    line = stage_line(result.stdout, "create-env")
    assert " ran " in line and "python 3.12.1 -> 3.12.9" in line
    assert " ran " in stage_line(result.stdout, "freeze")
    # removed: a clear error naming the version, not a broken venv or a traceback
    (root / "versions" / "3.12.9").rename(root / "gone")
    result = pyve("build", env=env)
    assert result.returncode == 1
    assert "Python 3.12 is not installed (found:" in result.stderr
    assert "pyenv install 3.12" in result.stderr
    assert "Traceback" not in result.output
