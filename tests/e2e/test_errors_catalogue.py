"""docs/errors.md, row by row: feed the bad input, get one `error:` line (+ a hint line), the
exit code from the table, no traceback (unless --debug), and the previous env and locks
unchanged. Plus the inputs that must simply work: spaces and non-ASCII letters in the
project path, a project reached through a symlink."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, Result
from tests.e2e.faults import assert_whole, setup

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
BAD_CHANNEL = "file:///nonexistent-pyve-channel"
UNREACHABLE_INDEX = {"PIP_NO_INDEX": "false", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
                     "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull, "PIP_RETRIES": "1",
                     "PIP_TIMEOUT": "3"}  # loopback port 9 (discard): refused at once


@dataclass
class Row:
    id: str
    needle: str  # in the one error line; its start is the row's key in docs/errors.md
    code: int
    files: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ("build",)
    env: dict[str, str] = field(default_factory=dict)
    conda: bool = False  # needs the local channel (use {channel} in files)
    breaks_input: bool = True  # an edit of a built project's input (for the unchanged test)


VENV_TOML = 'backend = "venv"\ninstall_deps = true\n'
ENV_HEAD = "channels:\n  - {channel}\nplatforms: [linux-64]\ndependencies:\n"
ROWS = [
    Row("pyve-toml-syntax", "pyve.toml: invalid TOML", 2, {"pyve.toml": "backend = \n"}),
    Row("pyve-toml-unknown", "pyve.toml: unknown setting 'colour'", 2,
        {"pyve.toml": VENV_TOML + 'colour = "red"\n'}),
    Row("pyve-toml-type", "pyve.toml: python must be a string", 2,
        {"pyve.toml": VENV_TOML + "python = 3.11\n"}),
    Row("pyproject-syntax", "pyproject.toml: invalid TOML", 1,
        {"pyproject.toml": "[project\nname = 'x'\n"}),
    Row("envfile-yaml", "environment.yml:4: invalid YAML", 1,
        {"environment.yml": "channels:\n  - x\ndependencies: [python\n  - : :\n"}),
    Row("envfile-spec", "environment.yml:6: invalid conda spec 'nump y'", 1,
        {"environment.yml": ENV_HEAD + "  - python\n  - nump y\n"}, conda=True),
    Row("envfile-pip-line", "invalid pip requirement 'not valid!!'", 1,
        {"environment.yml": ENV_HEAD + "  - python\n  - pip:\n    - not valid!!\n"},
        conda=True),
    Row("envfile-empty", "environment.yml: 'dependencies' is missing or empty", 1,
        {"environment.yml": "channels: [x]\n"}),
    Row("requirements-line", "(from line 2 of requirements.txt)", 1,
        {"requirements.txt": "alpha\nthis is not valid!!\n", "pyve.toml": VENV_TOML}),
    Row("backend-flag", "invalid backend 'foo' in --backend", 2, args=("build", "--backend", "foo"),
        breaks_input=False),
    Row("backend-env", "invalid backend 'condaa' in PYVE_BACKEND", 2,
        env={"PYVE_BACKEND": "condaa"}, breaks_input=False),
    Row("python-malformed", "invalid Python version '3.x.y'", 2,
        args=("build", "--python", "3.x.y"), breaks_input=False),
    Row("python-missing", "Python 3.99 is not installed", 1, args=("build", "--python", "3.99"),
        breaks_input=False),
    Row("python-pin-malformed", "invalid Python version 'banana'", 2,
        {".python-version": "banana\n"}),
    Row("conda-unsatisfiable", "cannot solve the conda environment for linux-64", 1,
        {"environment.yml": ENV_HEAD + "  - python\n  - libfoo>=9\n"}, conda=True),
    Row("conda-channel-unreachable", f"unreachable channel {BAD_CHANNEL}", 1,
        {"environment.yml": f"channels: [{BAD_CHANNEL}]\ndependencies: [python]\n"}),
    Row("pip-no-such-package", "No matching distribution found for no-such-package", 1,
        {"requirements.txt": "no-such-package==1.0\n", "pyve.toml": VENV_TOML}),
    Row("pip-index-unreachable", "http://127.0.0.1:9/simple unreachable", 1,
        {"requirements.txt": "delta==1.0\n", "pyve.toml": VENV_TOML}, env=UNREACHABLE_INDEX),
    Row("installer", "invalid installer 'poetry' in PYVE_INSTALLER", 2,
        env={"PYVE_INSTALLER": "poetry"}, breaks_input=False),
    Row("two-pythons", "two Python versions given", 2, args=("init", "3.11", "--python", "3.12"),
        breaks_input=False),
    Row("unknown-command", "unknown command 'biuld'", 2, args=("biuld",), breaks_input=False),
    Row("unknown-option", "unknown option '--forse'", 2, args=("build", "--forse"),
        breaks_input=False),
    Row("dash-c", "-C /nonexistent-pyve-dir", 2, args=("-C", "/nonexistent-pyve-dir", "build"),
        breaks_input=False),
    Row("run-no-command", "pyve run needs a command", 2, args=("run",), breaks_input=False),
    Row("lock-platform-venv", "--platform applies to conda locks", 2,
        args=("lock", "--platform", "linux-64"), files={"pyve.toml": VENV_TOML},
        breaks_input=False),
    Row("include-cycle", "requirements include cycle: requirements.txt -> a.txt -> "
        "requirements.txt (a.txt, line 1 (-r requirements.txt))", 1,
        {"requirements.txt": "-r a.txt\n", "a.txt": "-r requirements.txt\n",
         "pyve.toml": VENV_TOML}),
    Row("include-missing", "requirements.txt, line 2 (-c pins.txt): included file pins.txt "
        "not found", 1, {"requirements.txt": "alpha\n-c pins.txt\n", "pyve.toml": VENV_TOML}),
    Row("pyve-toml-extras", "pyve.toml: extras: 'dev' is not in [project.optional-dependencies]",
        2, {"pyve.toml": VENV_TOML + 'extras = ["dev"]\n'}),
    Row("pyve-toml-groups", "pyve.toml: groups: 'test' is not in [dependency-groups]", 2,
        {"pyve.toml": VENV_TOML + 'groups = ["test"]\n'}),
    Row("lock-not-ours", "requirements.lock.txt exists and was not written by pyve", 1,
        {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML,
         "requirements.lock.txt": "alpha==1.0\n"}),
]


def _materialize(root: Path, row: Row, channel: Path) -> None:
    for name, text in row.files.items():
        (root / name).write_text(text.replace("{channel}", str(channel)), encoding="utf-8")


def _assert_one_error(result: Result, row: Row) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == row.code, (row.id, out)
    assert "Traceback" not in out and "internal error" not in out, out
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()
             and not ln.startswith("waiting for")]
    assert lines and lines[0].startswith("error: "), (row.id, out)
    assert len(lines) <= 2 and all(ln.startswith("  hint: ") for ln in lines[1:]), out
    assert row.needle in lines[0], (row.id, lines[0])


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_error_row(project: Path, pyve: PyveRunner, local_channel: Path, row: Row) -> None:
    if row.conda and not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    _materialize(project, row, local_channel)
    before = sorted(p.name for p in project.iterdir())
    result = pyve(*row.args, env=row.env or None)
    _assert_one_error(result, row)
    if row.code == 2:  # usage errors touch nothing
        assert sorted(p.name for p in project.iterdir()) == before


def test_every_row_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for row in ROWS:
        assert f"`{row.id}`" in text, f"docs/errors.md has no row {row.id}"


def test_debug_shows_the_traceback(project: Path, pyve: PyveRunner) -> None:
    (project / "pyve.toml").write_text("backend = \n")
    result = pyve("--debug", "build")
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert "error: pyve.toml: invalid TOML" in result.stderr


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every file of the env and the locks: bytes for the locks, (size, mtime) for the rest."""
    found: dict[str, tuple[int, int, bytes | None]] = {}
    for path in [*(root / ".venv").rglob("*"), root / "requirements.lock.txt"]:
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            st = path.stat()
            data = path.read_bytes() if path.suffix == ".txt" else None
            found[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns, data)
    return found


def test_bad_input_leaves_env_and_lock_unchanged(project: Path, pyve: PyveRunner,
                                                 local_channel: Path) -> None:
    """One built venv project; each venv row's bad input in turn: the env and the lock are
    byte-for-byte what they were; with the input restored, the next build is whole."""
    setup(project, "venv")
    assert pyve("build").returncode == 0
    good = {name: (project / name).read_bytes()
            for name in ("requirements.txt", "pyve.toml")}
    before = _snapshot(project)
    for row in ROWS:
        if row.conda or "environment.yml" in row.files or "requirements.lock.txt" in row.files:
            continue  # would switch the backend / replace the lock: run on their own above
        _materialize(project, row, local_channel)
        result = pyve(*row.args, env=row.env or None)
        _assert_one_error(result, row)
        for name in row.files:
            if name in good:
                (project / name).write_bytes(good[name])
            else:
                (project / name).unlink()
        assert _snapshot(project) == before, row.id
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")


@pytest.mark.parametrize("name", ["my project", "prój ëct ñ", "日本 語"])
def test_odd_project_paths_work(tmp_path: Path, pyve: PyveRunner, name: str) -> None:
    root = tmp_path / name
    root.mkdir()
    setup(root, "venv")
    result = pyve("build", cwd=root)
    assert result.returncode == 0, result.output
    assert_whole(root, "venv")
    run = pyve("run", "python", "-c", "import beta, sys; print(sys.prefix)", cwd=root)
    assert run.returncode == 0 and str(root) in run.stdout, run.output
    assert "Nothing to do" in pyve("build", cwd=root).stdout


def test_project_through_a_symlink_works(tmp_path: Path, project: Path, pyve: PyveRunner) -> None:
    setup(project, "venv")
    link = tmp_path / "link"
    link.symlink_to(project)
    result = pyve("build", cwd=link)
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")
    assert "Nothing to do" in pyve("build").stdout  # the real path agrees
    assert "Nothing to do" in pyve("-C", str(link), "build").stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a chmod 555 folder anyway")
def test_read_only_project(project: Path, pyve: PyveRunner) -> None:
    setup(project, "venv")
    project.chmod(0o555)
    try:
        result = pyve("build")
    finally:
        project.chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in result.output, result.output
    assert result.stderr.startswith("error: "), result.output
