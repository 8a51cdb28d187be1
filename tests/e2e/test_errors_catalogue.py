"""docs/errors.md, row by row: feed the bad input, get one `error:` line (+ a hint line), the
exit code from the table, no traceback (unless --debug), and the previous env and locks
unchanged. Plus the inputs that must simply work: spaces and non-ASCII letters in the
project path, a project reached through a symlink."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, Result
from tests.support.faults import assert_whole, setup

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
    files: dict[str, str | bytes] = field(default_factory=dict)
    args: tuple[str, ...] = ("build",)
    env: dict[str, str] = field(default_factory=dict)
    conda: bool = False  # needs the local channel (use {channel} in files)
    breaks_input: bool = True  # an edit of a built project's input (for the unchanged test)
    no_project: bool = False  # the folder must hold no project (not run on the built one)


VENV_TOML = 'backend = "venv"\ninstall_deps = true\n'
A_PROJECT = {"requirements.txt": "alpha\n"}  # `pyve build` outside a project is its own row
PIP_TOML = VENV_TOML + 'installer = "pip"\n'  # the rows that show pip's own words
ENV_HEAD = "channels:\n  - {channel}\nplatforms: [linux-64]\ndependencies:\n"
# "billion laughs": nine lines that expand to about a billion strings
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
) + "dependencies: *i\n"
LOCK_HEAD = ("version: 1\nmetadata: {platforms: [linux-64], channels: [], content_hash: {},"
             " sources: []}\npackage:\n")
LOCK_ENTRY = ("- {name: x, version: '1', manager: conda, platform: linux-64, url: %s, "
              "hash: {}, dependencies: {}}\n")
ROWS = [
    Row("pyve-toml-syntax", "pyve.toml: invalid TOML", 2, {"pyve.toml": "backend = \n"}),
    Row("pyve-toml-unknown", "pyve.toml: unknown setting 'colour'", 2,
        {"pyve.toml": VENV_TOML + 'colour = "red"\n'}),
    Row("pyve-toml-type", "pyve.toml: python must be a string", 2,
        {"pyve.toml": VENV_TOML + "python = 3.11\n"}),
    Row("pyve-toml-bool", "pyve.toml: backend must be a string, not True", 2,
        {"pyve.toml": "backend = true\n"}),
    Row("pyve-toml-not-table", "pyve.toml: pyve must be a table ([pyve]), not 1", 2,
        {"pyve.toml": "pyve = 1\n"}),
    Row("pyve-toml-nested", "pyve.toml: nested too deeply", 2,
        {"pyve.toml": VENV_TOML + "x = " + "[" * 3000 + "]" * 3000 + "\n"}),
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
    Row("envfile-not-utf8", "environment.yml:3: not UTF-8 text", 1,
        {"environment.yml": b"channels: [x]\ndependencies: [python]\n# caf\xe9\n"}),
    Row("envfile-platform", "environment.yml: platforms: '../../etc' is not a conda platform", 1,
        {"environment.yml": "channels: [x]\nplatforms: ['../../etc']\ndependencies: [python]\n"}),
    Row("envfile-platform-map", "environment.yml: platforms: {'a': 'b'} is not a conda platform",
        1, {"environment.yml": "channels: [x]\nplatforms: [{a: b}]\ndependencies: [python]\n"}),
    Row("envfile-channel", "environment.yml: invalid channel 'foo[x]'", 1,
        {"environment.yml": "channels: ['foo[x]']\ndependencies: [python]\n"}),
    Row("envfile-variables", "environment.yml: variables: 'A=B' is not a variable name", 1,
        {"environment.yml": "channels: [x]\nvariables: {'A=B': 1}\ndependencies: [python]\n"}),
    Row("envfile-aliases", "environment.yml: refused: its aliases expand it to", 1,
        {"environment.yml": "channels: [x]\n" + LAUGHS}),
    Row("envfile-nested", "environment.yml: refused: nested more than 100 levels deep", 1,
        {"environment.yml": "dependencies: " + "[" * 3000 + "]" * 3000 + "\n"}),
    Row("lock-entry-url", "conda-lock.yml: damaged: package entry 'x': 'url' must be text", 1,
        {"conda-lock.yml": LOCK_HEAD + LOCK_ENTRY % "5"}),
    Row("lock-entry-name", "conda-lock.yml: damaged: package entry #1: 'name' is missing", 1,
        {"conda-lock.yml": LOCK_HEAD + (LOCK_ENTRY % "file:///x.tar.bz2").replace("name: x, ",
                                                                                 "")}),
    Row("requirements-line", "(from line 2 of requirements.txt)", 1,
        {"requirements.txt": "alpha\nthis is not valid!!\n", "pyve.toml": VENV_TOML}),
    Row("backend-flag", "invalid backend 'foo' in --backend", 2, A_PROJECT,
        args=("build", "--backend", "foo"), breaks_input=False),
    Row("backend-env", "invalid backend 'condaa' in PYVE_BACKEND", 2, A_PROJECT,
        env={"PYVE_BACKEND": "condaa"}, breaks_input=False),
    Row("python-malformed", "invalid Python version '3.x.y'", 2, A_PROJECT,
        args=("build", "--python", "3.x.y"), breaks_input=False),
    Row("python-missing", "Python 3.99 is not installed", 1, A_PROJECT,
        args=("build", "--python", "3.99"), breaks_input=False),
    Row("python-download-failed", "and uv could not install it: failed to open file", 1,
        A_PROJECT, args=("build", "--python", "3.99"), breaks_input=False,
        env={"PYVE_PYTHON_DOWNLOADS": "automatic",  # the sandbox's never, turned off
             "UV_PYTHON_DOWNLOADS_JSON_URL": "/nonexistent-pyve-downloads.json"}),
    Row("pyve-toml-python-downloads", 'pyve.toml: python_downloads must be "automatic" or', 2,
        {"pyve.toml": VENV_TOML + 'python_downloads = "sometimes"\n'}),
    Row("python-pin-malformed", "invalid Python version 'banana'", 2,
        {".python-version": "banana\n", **A_PROJECT}),
    Row("conda-unsatisfiable", "cannot solve the conda environment for linux-64", 1,
        {"environment.yml": ENV_HEAD + "  - python\n  - libfoo>=9\n"}, conda=True),
    Row("conda-channel-unreachable", f"unreachable channel {BAD_CHANNEL}", 1,
        {"environment.yml": f"channels: [{BAD_CHANNEL}]\ndependencies: [python]\n"}),
    Row("pip-no-such-package", "No matching distribution found for no-such-package", 1,
        {"requirements.txt": "no-such-package==1.0\n", "pyve.toml": PIP_TOML}),
    Row("uv-no-such-package", "no-such-package was not found in the provided package "
        "locations", 1, {"requirements.txt": "no-such-package==1.0\n", "pyve.toml": VENV_TOML}),
    Row("pip-index-unreachable", "http://127.0.0.1:9/simple unreachable", 1,
        {"requirements.txt": "delta==1.0\n", "pyve.toml": PIP_TOML}, env=UNREACHABLE_INDEX),
    Row("pip-config-unreadable", "cannot read pip's configuration broken.conf", 1,
        {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML, "broken.conf": "no section\n"},
        env={"PIP_CONFIG_FILE": "broken.conf"}, breaks_input=False),
    Row("pip-config-number", "pip's configuration timeout.conf: timeout = 'abc' is not a number",
        1, {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML,
            "timeout.conf": "[global]\ntimeout = abc\n"},
        env={"PIP_CONFIG_FILE": "timeout.conf"}, breaks_input=False),
    Row("pyproject-nested", "pyproject.toml: nested too deeply", 1,
        {"pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n[tool.x]\nx = "
         + "[" * 5000 + "]" * 5000 + "\n", "pyve.toml": VENV_TOML}),
    Row("python-too-long", "invalid Python version '==3.3.3", 2,
        {"requirements.txt": "alpha\n"},
        args=("build", "--python", "==" + ".".join(["3"] * 3000)), breaks_input=False),
    Row("option-before-command", "'--json' goes after the command: `pyve build --json`", 2,
        args=("--json", "build"), breaks_input=False),
    Row("option-choice", "--shell: 'tcsh' is not one of bash, zsh, fish", 2,
        args=("shell-hook", "--shell", "tcsh"), breaks_input=False),
    Row("installer", "invalid installer 'poetry' in PYVE_INSTALLER", 2,
        A_PROJECT, env={"PYVE_INSTALLER": "poetry"},
        breaks_input=False),
    Row("two-pythons", "two Python versions given", 2, args=("init", "3.11", "--python", "3.12"),
        breaks_input=False),
    Row("unknown-command", "unknown command 'biuld'", 2, args=("biuld",), breaks_input=False),
    Row("unknown-option", "unknown option '--forse'", 2, args=("build", "--forse"),
        breaks_input=False),
    Row("dash-c", "-C /nonexistent-pyve-dir", 2, args=("-C", "/nonexistent-pyve-dir", "build"),
        breaks_input=False),
    Row("run-no-command", "pyve run needs a command", 2, args=("run",), breaks_input=False),
    Row("no-project", "no project in ", 1, args=("build",), breaks_input=False,
        no_project=True),
    Row("init-inside-project", "is inside the project ", 2,
        {"pyve.toml": VENV_TOML, "src/.keep": ""}, args=("-C", "src", "init"),
        breaks_input=False),
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
    Row("pyve-toml-poetry-group", "pyve.toml: groups: 'test' is [tool.poetry.group.test] of "
        "pyproject.toml; pyve reads PEP 735 [dependency-groups]", 2,
        {"pyve.toml": VENV_TOML + 'groups = ["test"]\n',
         "pyproject.toml": '[tool.poetry.group.test.dependencies]\npytest = "^8"\n'}),
    Row("pyve-toml-lock-environments",
        "pyve.toml: lock_environments: 'sys_platform = linux' is not a PEP 508 marker", 2,
        {"pyve.toml": VENV_TOML + 'lock_environments = ["sys_platform = linux"]\n'}),
    Row("uv-environments", "pyproject.toml: [tool.uv] environments: 'linux' is not a PEP 508 "
        "marker", 2, {"pyve.toml": VENV_TOML,
                      "pyproject.toml": '[tool.uv]\nenvironments = ["linux"]\n'}),
    Row("lock-platform-flag", "--platform: '../x' is not a conda platform", 2,
        {"environment.yml": ENV_HEAD + "  - python\n"}, args=("lock", "--platform", "../x"),
        conda=True, breaks_input=False),
    Row("pyve-toml-project-lock", "pyve.toml: project_lock must be true or false, not 'no'", 2,
        {"pyve.toml": VENV_TOML + 'project_lock = "no"\n'}),
    Row("project-lock-syntax", "pdm.lock: invalid TOML", 1,
        {"pyproject.toml": '[project]\nname = "x"\nversion = "0"\n', "pdm.lock": "[metadata\n",
         "pyve.toml": VENV_TOML}),
    Row("add-unresolvable", "cannot add nosuchpkg: ", 1, args=("add", "--yes", "nosuchpkg"),
        breaks_input=False),
    Row("remove-absent", "gamma is not in requirements.txt (it has: alpha)", 2,
        {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML}, args=("remove", "gamma"),
        breaks_input=False),
    Row("lock-not-ours", "requirements.lock.txt exists and was not written by pyve", 1,
        {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML,
         "requirements.lock.txt": "alpha==1.0\n"}),
    Row("lock-not-utf8", "requirements.lock.txt: not UTF-8 text (byte 1 cannot be read)", 1,
        {"requirements.txt": "alpha\n", "pyve.toml": VENV_TOML,
         "requirements.lock.txt": b"\xff\xfe alpha==1.0 --hash=sha256:" + b"ab" * 32 + b"\n"},
        args=("build", "--frozen")),
    Row("cache-not-ours", "shared/pyve-pkgs is not a package cache pyve made: pyve keeps", 1,
        {"environment.yml": ENV_HEAD + "  - python\n", "shared/pyve-pkgs/mine.txt": "mine\n"},
        env={"PYVE_CACHE_DIR": "shared"}, conda=True),
]


def _materialize(root: Path, row: Row, channel: Path) -> None:
    for name, text in row.files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (root / name).write_bytes(text)
        else:
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
        if row.conda or row.no_project or {"environment.yml", "conda-lock.yml",
                                           "requirements.lock.txt"} & set(row.files):
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


@pytest.mark.parametrize("backend", ["venv", "micromamba"])
def test_path_with_the_path_separator_is_refused(tmp_path: Path, pyve: PyveRunner,
                                                 local_channel: Path, backend: str) -> None:
    """A ':' in the project path would split the env's PATH entry (`pyve run python` ran the
    host's Python under the micromamba backend): refused for both backends, in one line,
    before any environment is made."""
    if backend == "micromamba" and not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    root = tmp_path / "a:b"
    root.mkdir()
    setup(root, backend, local_channel)
    result = pyve("build", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.output, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith("error: the environment path ") and str(root) in lines[0], lines
    assert "contains ':', the PATH separator" in lines[0], lines
    assert len(lines) == 2 and lines[1].startswith("  hint: move or rename"), lines
    assert not (root / ".venv").exists() and not (root / ".pyve" / "envs").exists()
    # an env built elsewhere, then the project moved under such a name: `run` refuses too
    shutil.rmtree(root)
    built = tmp_path / "ab"
    built.mkdir()
    setup(built, backend, local_channel)
    assert pyve("build", cwd=built).returncode == 0
    built.rename(root)
    run = pyve("run", "python", "-c", "import sys; print(sys.prefix)", cwd=root)
    assert run.returncode == 1 and "the PATH separator" in run.stderr, run.output


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


def test_something_in_pyves_way_is_kept(project: Path, pyve: PyveRunner) -> None:
    """`.pyve` as a file: the user's, so kept; one line."""
    setup(project, "venv")
    (project / ".pyve").write_text("mine\n")
    result = pyve("build")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[0] == "error: .pyve: is a file where pyve expects a folder", result.output
    assert len(lines) == 2 and lines[1].startswith("  hint: move it away"), result.output
    assert (project / ".pyve").read_text() == "mine\n"


def test_gitignore_folder_is_kept_and_the_build_goes_on(project: Path, pyve: PyveRunner) -> None:
    """`.gitignore` as a folder blocks nothing: pyve leaves it alone and says so in one line."""
    setup(project, "venv")
    (project / ".gitignore").mkdir()
    (project / ".gitignore" / "keep.txt").write_text("mine\n")
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert ".gitignore is a folder: pyve left it alone" in result.output
    assert (project / ".gitignore" / "keep.txt").read_text() == "mine\n"


def _namespace_script(tmp_path: Path, script: str, env: dict[str, str]) -> Result:
    """Run `script` (sh) in a private mount namespace, where it may mount a small tmpfs or a
    read-only view of the project. Root or not (CI runs as root, where chmod protects
    nothing): skipped where the kernel or the container does not allow it."""
    import shutil
    import subprocess

    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        pytest.skip("needs unshare(1) on Linux to mount a full or read-only file system")
    flags = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    probe = subprocess.run([unshare, *flags, "sh", "-c", f"mount -t tmpfs tmpfs {tmp_path}"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"mount namespaces are not allowed here: {probe.stderr.decode()[:80]}")
    done = subprocess.run([unshare, *flags, "sh", "-c", script], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def _pyve_cmd() -> str:
    return f"{sys.executable} -m pyve"


@pytest.mark.parametrize("size", ["8k", "64k"])
def test_disk_full(tmp_path: Path, sandbox_env: dict[str, str], size: str) -> None:
    """ENOSPC while pyve writes its own files (8k) or while the venv is made (64k)."""
    root = tmp_path / "small"
    root.mkdir()
    script = (f"mount -t tmpfs -o size={size} tmpfs {root} && cd {root} && "
              "printf 'beta\\n' > requirements.txt && "
              "printf 'backend = \"venv\"\\ninstall_deps = true\\n' > pyve.toml; "
              f"{_pyve_cmd()} build")
    result = _namespace_script(tmp_path, script, sandbox_env)
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith("error: ") and "no space left on the device" in lines[0], lines
    if size == "8k":  # pyve's own write: the line names the file (docs/errors.md promises it)
        assert lines[0].startswith("error: .pyve/") or lines[0].startswith("error: pyve"), lines
    assert len(lines) == 2 and "free some disk space" in lines[1], lines


def test_read_only_mount(tmp_path: Path, project: Path, pyve: PyveRunner,
                         sandbox_env: dict[str, str]) -> None:
    """A stale env in a read-only project: one line, exit 1; status and `run --frozen` work."""
    setup(project, "venv")
    assert pyve("build").returncode == 0
    with (project / "requirements.txt").open("a") as handle:
        handle.write("alpha\n")
    script = (f"mount --bind {project} {project} && mount -o remount,bind,ro {project} && "
              f"cd {project} && {_pyve_cmd()} build; echo \"build=$?\"; "
              f"{_pyve_cmd()} status >/dev/null; echo \"status=$?\"; "
              f"{_pyve_cmd()} run --frozen python -c 'import beta'; echo \"run=$?\"")
    result = _namespace_script(tmp_path, script, sandbox_env)
    assert "build=1" in result.stdout and "status=0" in result.stdout, result.output
    assert "run=0" in result.stdout, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == ["error: .pyve/lock: read-only file system"], result.output
