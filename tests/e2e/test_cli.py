"""The command line through the real `pyve`: subcommands, --version/--help, the Guide's
`--init`/`--purge` spellings, and one-line usage errors (exit 2) that change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyve import __version__
from tests.conftest import PyveRunner
from tests.support.helpers import status_json, tree

SUBCOMMANDS = ("init", "build", "lock", "purge", "status", "run")


def test_version(pyve: PyveRunner) -> None:
    result = pyve("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pyve {__version__}"


def test_help_lists_every_subcommand_and_legacy_spelling(pyve: PyveRunner) -> None:
    result = pyve("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{name}\s", result.stdout, re.M), name
    init_help = pyve("init", "--help").stdout
    for option in ("--backend", "--python", "--auto-install-deps", "--no-install-deps", "--yes"):
        assert option in init_help
    assert pyve("--init", "--help").stdout == init_help  # the Guide's spelling, same command


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(pyve: PyveRunner, name: str) -> None:
    result = pyve(name, "--help")
    assert result.returncode == 0 and f"usage: pyve {name}" in result.stdout


def test_no_command_prints_help_and_exits_2(pyve: PyveRunner) -> None:
    result = pyve()
    assert result.returncode == 2
    assert "usage: pyve" in result.stdout


@pytest.mark.parametrize(("argv", "nearest"), [
    (["biuld"], "'build'"),
    (["stauts"], "'status'"),
    (["--inti"], "'--init'"),
    (["--purg"], "'--purge'"),
    (["build", "--forse"], "'--force'"),
    (["init", "--bakend", "venv"], "'--backend'"),
    (["--init", "--pyhton", "3.11"], "'--python'"),
    (["status", "--jsno"], "'--json'"),
])
def test_unknown_word_one_line_with_nearest_spelling(
    project: Path, pyve: PyveRunner, argv: list[str], nearest: str
) -> None:
    result = pyve(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"did you mean {nearest}?" in lines[0]
    assert result.stdout == ""
    assert tree(project) == {}  # nothing written


@pytest.mark.parametrize(("argv", "env", "toml"), [
    (["init", "--backend", "cnoda"], {}, None),
    (["--init", "--backend=virtualenv"], {}, None),
    (["build"], {"PYVE_BACKEND": "pip"}, None),
    (["init", "--yes"], {}, 'backend = "mamba-forge"\n'),
    (["status"], {}, 'backend = "nope"\n'),
])
def test_invalid_backend_lists_valid_ones_and_changes_nothing(
    project: Path, pyve: PyveRunner, argv: list[str], env: dict[str, str], toml: str | None
) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    if toml:
        (project / "pyve.toml").write_text(toml)
    before = tree(project)
    result = pyve(*argv, env=env)
    assert result.returncode == 2, result.output
    assert "invalid backend" in result.stderr
    assert "venv, micromamba, auto" in result.stderr
    assert tree(project) == before


def test_python_version_not_installed_changes_nothing(project: Path, pyve: PyveRunner) -> None:
    result = pyve("init", "3.1.99", "--yes")
    assert result.returncode == 1
    assert "Python 3.1.99 is not installed" in result.stderr
    assert tree(project) == {}


def test_two_python_versions_is_a_usage_error(project: Path, pyve: PyveRunner) -> None:
    result = pyve("init", "3.11", "--python", "3.12")
    assert result.returncode == 2
    assert "two Python versions" in result.stderr
    assert tree(project) == {}


def test_conflicting_install_flags(project: Path, pyve: PyveRunner) -> None:
    result = pyve("--init", "--auto-install-deps", "--no-install-deps")
    assert result.returncode == 2
    assert "not allowed with" in result.stderr


def test_legacy_init_and_purge_spellings(project: Path, pyve: PyveRunner) -> None:
    """`pyve --init 3.11 --backend venv --no-install-deps` then `pyve --purge`: the Guide's
    forms do what `init`/`purge` do, with global options before them kept global."""
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("-C", str(project), "--init", "3.11", "--backend", "venv",
                  "--no-install-deps", cwd=project.parent, check=True)
    assert "venv backend (--backend says venv)" in result.stdout
    assert "python 3.11." in result.stdout and "(asked for 3.11)" in result.stdout
    assert "pip-deps" not in result.stdout  # --no-install-deps: not installed, not asked
    config = (project / "pyve.toml").read_text()
    assert 'backend = "venv"' in config and 'python = "3.11"' in config
    assert "install_deps = false" in config
    assert status_json(pyve("status", "--json"))["python"].startswith("3.11.")
    purge = pyve("--purge", check=True)
    assert ".venv/" in purge.stdout and not (project / ".venv").exists()
    assert (project / "pyve.toml").exists() and (project / "requirements.txt").exists()


def test_dash_c_names_a_missing_directory(pyve: PyveRunner, tmp_path: Path) -> None:
    result = pyve("-C", str(tmp_path / "nope"), "status")
    assert result.returncode == 2
    assert "-C" in result.stderr


def test_a_backend_whose_dependency_is_broken_says_so(project: Path, pyve: PyveRunner,
                                                      tmp_path: Path) -> None:
    """py-rattler missing or broken (no wheel for the platform, a damaged install): one line
    naming the backend and why, not "not yet supported"."""
    shadow = tmp_path / "shadow"
    (shadow / "rattler").mkdir(parents=True)
    (shadow / "rattler" / "__init__.py").write_text(
        "raise ImportError('libfoo.so: cannot open shared object file')\n")
    (project / "environment.yml").write_text("dependencies: [python]\n")
    result = pyve("build", env={"PYTHONPATH": str(shadow)})
    assert result.returncode == 1, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == ["error: the micromamba backend cannot load: libfoo.so: cannot open "
                      "shared object file"], result.output
    assert "--backend venv" in result.stderr and "Traceback" not in result.output
