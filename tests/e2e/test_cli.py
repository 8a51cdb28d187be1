"""The command line through the real `pyve`: subcommands, --version/--help, the Guide's
`--init`/`--purge` spellings, and one-line usage errors (exit 2) that change nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyve import __version__
from tests.conftest import PyveRunner
from tests.support.helpers import status_json, tree

SUBCOMMANDS = ("init", "build", "lock", "purge", "status", "run")
EVERY_COMMAND = ("init", "build", "lock", "purge", "status", "run", "cache", "fingerprint",
                 "shell-hook", "doctor", "completion")


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


# -- the project is found from a subfolder ------------------------------------------------

def test_project_found_from_a_subfolder(venv_project: Path, pyve: PyveRunner) -> None:
    """As git and uv: `pyve build`, `run`, `status` in src/deep/ are the project's; `run`
    runs the command in the folder it was started in (fast path and full path alike)."""
    deep = venv_project / "src" / "deep"
    deep.mkdir(parents=True)
    built = pyve("build", cwd=deep, check=True)
    assert "Nothing to do" in built.stdout, built.output
    assert f"Environment: {venv_project / '.venv'}" in built.stdout
    code = "import os, sys, alpha; print(os.getcwd()); print(sys.prefix)"
    for env in ({}, {"PYVE_NO_FAST": "1"}):
        run = pyve("run", "python", "-c", code, cwd=deep, env=env, check=True)
        assert run.stdout.split() == [str(deep), str(venv_project / ".venv")], run.output
    assert status_json(pyve("status", "--json", cwd=deep))["env"] == str(venv_project / ".venv")
    assert pyve("lock", "--check", cwd=deep).returncode == 0
    assert tree(deep) == {}  # no .venv, .pyve or lock made down there
    # -C names where pyve starts: the walk goes up from there too
    assert "Nothing to do" in pyve("-C", str(deep), "build", cwd=venv_project.parent,
                                   check=True).stdout


def test_project_files_found_from_a_subfolder_before_init(project: Path,
                                                          pyve: PyveRunner) -> None:
    """No pyve.toml yet: the nearest folder with a project file is the project; a pyve.toml
    further up wins over a nearer project file (docs/requirements.txt of an initialised
    project)."""
    (project / "requirements.txt").write_text("alpha\n")
    src = project / "src"
    src.mkdir()
    pyve("build", "--yes", cwd=src, check=True)
    assert (project / ".venv" / "bin" / "python").exists() and tree(src) == {}
    docs = project / "docs"
    docs.mkdir()
    (docs / "requirements.txt").write_text("gamma\n")
    result = pyve("build", cwd=docs, check=True)  # .pyve/ above: the built project
    assert f"Environment: {project / '.venv'}" in result.stdout and tree(docs) == {
        "requirements.txt": b"gamma\n"}


@pytest.mark.parametrize("command", [("build",), ("run", "python", "-V"), ("lock",),
                                     ("fingerprint",), ("shell-hook",)])
def test_no_project_says_so_and_makes_nothing(project: Path, pyve: PyveRunner,
                                              command: tuple[str, ...]) -> None:
    result = pyve(*command)
    assert result.returncode == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == (f"error: no project in {project} or above: no pyve.toml, "
                        "requirements.txt, pyproject.toml, environment.yml or other project "
                        "file"), result.output
    assert "`pyve init` makes one here" in lines[1] and len(lines) == 2
    assert tree(project) == {}
    assert pyve("status").returncode == 0  # status reports on the folder it stands in


def test_the_walk_stops_at_home(project: Path, pyve: PyveRunner,
                                sandbox_env: dict[str, str]) -> None:
    """A stray ~/requirements.txt makes no project of every folder under home; home's own
    pyve.toml (pyve init in ~) does."""
    home = Path(sandbox_env["HOME"])
    (home / "requirements.txt").write_text("alpha\n")
    below = home / "Downloads" / "x"
    below.mkdir(parents=True)
    result = pyve("build", cwd=below)
    assert result.returncode == 1 and "no project in" in result.stderr, result.output
    assert not (home / ".venv").exists() and tree(below) == {}
    (home / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    result = pyve("status", "--json", cwd=below)
    assert status_json(result)["env"] == str(home / ".venv")


def test_the_walk_stops_at_a_file_system_boundary(project: Path,
                                                  sandbox_env: dict[str, str]) -> None:
    """A folder on another file system (a mount point under the project) is no part of
    the project above it, as git's discovery stops there. A real tmpfs mount, in a user and
    mount namespace of the test's own."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"],
                                         capture_output=True).returncode != 0:
        pytest.skip("no user+mount namespaces here (unshare -rm)")
    (project / "pyve.toml").write_text('backend = "venv"\n')
    mount = project / "mnt"
    mount.mkdir()
    pyve = f"cd {mount}/sub && {sys.executable} -m pyve status --json"
    for how, expect in (("mkdir -p {m}/sub", str(project / ".venv")),
                        ("mount -t tmpfs none {m} && mkdir {m}/sub", str(mount / "sub/.venv"))):
        script = how.format(m=mount) + " && " + pyve
        done = subprocess.run([unshare, "-rm", "sh", "-c", script], env=sandbox_env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert status_json(done)["env"] == expect  # type: ignore[arg-type]


def test_init_in_a_projects_subfolder_names_the_project(venv_project: Path,
                                                        pyve: PyveRunner) -> None:
    """`pyve init` in src/ of a project: one line saying where the project is, nothing
    made. A subfolder with its own project file becomes a project of its own, said so."""
    src = venv_project / "src"
    src.mkdir()
    result = pyve("init", "--yes", cwd=src)
    assert result.returncode == 2, result.output
    assert result.stderr.startswith(
        f"error: {src} is inside the project {venv_project} and has no project file"), result.output
    assert f"pyve -C {venv_project} init" in result.stderr and tree(src) == {}
    (src / "requirements.txt").write_text("gamma\n")
    result = pyve("init", "--yes", cwd=src, check=True)
    assert f"note: {src} is inside the project {venv_project}; made a separate project" in (
        result.stdout)
    assert (src / "pyve.toml").is_file() and (src / ".venv" / "bin" / "python").exists()
    again = pyve("init", "--yes", cwd=src, check=True)  # its own now: no note
    assert "inside the project" not in again.stdout


# -- every command takes -y/--yes --------------------------------------------------------

@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_every_command_accepts_yes(pyve: PyveRunner, command: str) -> None:
    for spelling in ("-y", "--yes"):
        result = pyve(command, spelling, "--help")
        assert result.returncode == 0 and f"usage: pyve {command}" in result.stdout, result.output
    assert "-y, --yes" in pyve(command, "--help").stdout


def test_yes_is_harmless_where_nothing_is_asked(venv_project: Path, pyve: PyveRunner) -> None:
    for args in (("status", "-y"), ("-y", "doctor"), ("lock", "--check", "--yes"),
                 ("fingerprint", "-y"), ("shell-hook", "-y"), ("build", "-y"),
                 ("run", "-y", "python", "-c", "import alpha"), ("purge", "--dry-run", "-y")):
        result = pyve(*args)
        assert result.returncode == 0 and "error" not in result.stderr, (args, result.output)
