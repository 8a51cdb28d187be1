"""Damaged state: pyve's own files broken (state, decision, solution, env markers), an env
half-made or deleted, its interpreter gone, the project moved or copied. Each is detected,
said in one line, and repaired by the next `pyve build`; never a traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pyve.backends.conda import backend as conda_backend
from pyve.backends.venv import backend as venv_backend
from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import ran, stage_line
from tests.support.faults import assert_whole, env_python, setup


def _build(pyve: PyveRunner, cwd: Path | None = None, **env: str) -> str:
    result = pyve("build", cwd=cwd, env=env or None)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.stdout


@pytest.fixture
def built_venv(project: Path, pyve: PyveRunner) -> Path:
    setup(project, "venv")
    _build(pyve)
    return project


@pytest.fixture
def built_conda(project: Path, pyve: PyveRunner, local_channel: Path) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    setup(project, "micromamba", local_channel)
    _build(pyve)
    return project


DAMAGE = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "garbage": lambda b: b"\x00\xff\xfe not json \x01",
    "not-an-object": lambda b: b"[1, 2, 3]\n",
}


@pytest.mark.parametrize("how", ["truncated", "garbage"])  # more kinds: tests/unit
def test_damaged_state_file_is_rebuilt(built_venv: Path, pyve: PyveRunner, how: str) -> None:
    state = built_venv / ".pyve" / "state.json"
    state.write_bytes(DAMAGE[how](state.read_bytes()))
    out = _build(pyve)
    said = [ln for ln in out.splitlines() if "state.json" in ln]
    assert len(said) == 1 and "damaged" in said[0], out
    assert_whole(built_venv, "venv")
    assert "Nothing to do" in _build(pyve)


@pytest.mark.parametrize("shape", [
    {"pip-deps": 5},
    {"pip-deps": {"requirements.txt": 5, "deps:": ["requirements.txt"]}, "freeze": None},
])  # more shapes: tests/unit/test_parsers_fuzz.py
def test_wrong_shape_state_file_is_rebuilt(built_venv: Path, pyve: PyveRunner,
                                           shape: dict) -> None:
    """Valid JSON, wrong shape: the damaged entries are dropped and their stages re-run,
    then every later command works (it used to break them all)."""
    import json

    (built_venv / ".pyve" / "state.json").write_text(json.dumps(shape))
    out = _build(pyve)
    said = [ln for ln in out.splitlines() if "state.json" in ln]
    assert len(said) == 1 and "damaged" in said[0], out
    assert_whole(built_venv, "venv")
    assert "Nothing to do" in _build(pyve)
    for command in (("status",), ("doctor",)):
        result = pyve(*command)
        assert result.returncode == 0, result.output


def test_stamps_folder_that_is_a_file_is_rebuilt(built_venv: Path, pyve: PyveRunner) -> None:
    stamps = built_venv / ".pyve" / "stamps"
    shutil.rmtree(stamps)
    stamps.write_text("not a folder\n")
    out = _build(pyve)
    assert ".pyve/stamps was damaged" in out, out
    assert ran(out, "pip-deps"), out
    assert stamps.is_dir()
    assert_whole(built_venv, "venv")
    assert "Nothing to do" in _build(pyve)


@pytest.mark.parametrize("how", ["garbage"])
def test_damaged_decision_json_is_rewritten(built_venv: Path, pyve: PyveRunner,
                                            how: str) -> None:
    path = built_venv / ".pyve" / "decision.json"
    path.write_bytes(DAMAGE[how](path.read_bytes()))
    out = _build(pyve)
    assert "the recorded decision is damaged" in stage_line(out, "detect"), out
    import json

    assert json.loads(path.read_text())["backend"] == "venv"
    assert "Nothing to do" in _build(pyve)


@pytest.mark.parametrize("how", ["truncated"])
def test_damaged_venv_marker_rebuilds_env(built_venv: Path, pyve: PyveRunner, how: str) -> None:
    marker = built_venv / venv_backend.MARKER
    marker.write_bytes(DAMAGE[how](marker.read_bytes()))
    out = _build(pyve)
    assert "is damaged" in stage_line(out, "create-env") and ran(out, "pip-deps"), out
    assert_whole(built_venv, "venv")


def test_half_made_venv_is_rebuilt(built_venv: Path, pyve: PyveRunner) -> None:
    """What a crash inside `python -m venv` or pip leaves: no marker, half the files, and
    the claim pyve writes before it starts making .venv (so the .venv is still pyve's)."""
    (built_venv / venv_backend.MARKER).unlink()
    (built_venv / venv_backend.CREATING).write_text("1\n")
    for site in (built_venv / ".venv" / "lib").glob("python*/site-packages"):
        shutil.rmtree(site)
    out = _build(pyve)
    assert ran(out, "create-env") and ran(out, "pip-deps"), out
    assert_whole(built_venv, "venv")


def test_deleted_venv_is_rebuilt(built_venv: Path, pyve: PyveRunner) -> None:
    shutil.rmtree(built_venv / ".venv")
    out = _build(pyve)
    assert "environment missing" in stage_line(out, "create-env"), out
    assert_whole(built_venv, "venv")


@pytest.mark.parametrize("how", ["move", "copy"])
def test_moved_or_copied_project_gets_a_new_venv(built_venv: Path, pyve: PyveRunner,
                                                 tmp_path: Path, how: str) -> None:
    new = tmp_path / "elsewhere" / "proj"
    new.parent.mkdir()
    if how == "move":
        shutil.move(str(built_venv), str(new))
    else:
        shutil.copytree(built_venv, new, symlinks=True)
    out = _build(pyve, cwd=new)
    assert "the project moved" in stage_line(out, "create-env"), out
    assert ran(out, "pip-deps"), out
    assert_whole(new, "venv")
    shebang = (new / ".venv" / "bin" / "pip").read_text().splitlines()[0]
    assert str(new) in shebang, shebang
    if how == "copy":  # the original is left as it was, and still up to date
        assert "Nothing to do" in _build(pyve)


def test_interpreter_removed_under_the_venv(project: Path, pyve: PyveRunner,
                                            tmp_path: Path) -> None:
    """A venv made from a pyenv Python that is then uninstalled: said in one line, rebuilt
    from the Python found next."""
    real = Path(sys.base_prefix)
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    fake_root = tmp_path / "fakepyenv"
    version = fake_root / "versions" / ".".join(map(str, sys.version_info[:3]))
    (version / "bin").mkdir(parents=True)
    binary = Path(sys.base_prefix) / "bin" / f"python{minor}"
    if not binary.is_file():
        pytest.skip("no python binary to copy")
    shutil.copy2(binary, version / "bin" / f"python{minor}")
    (version / "bin" / "python").symlink_to(f"python{minor}")
    (version / "lib").symlink_to(real / "lib")  # the stdlib (and libpython) of the real one
    setup(project, "venv")
    (project / "pyve.toml").write_text(f'backend = "venv"\ninstall_deps = true\n'
                                       f'python = "{minor}"\n')
    _build(pyve, PYENV_ROOT=str(fake_root))
    assert str(version) in (project / ".venv" / "pyvenv.cfg").read_text()

    shutil.rmtree(fake_root)
    result = pyve("status", env={"PYENV_ROOT": str(fake_root)})
    assert "Traceback" not in result.output
    out = _build(pyve)  # the machine's pyenv: the same minor, another path
    assert ran(out, "create-env"), out
    assert_whole(project, "venv")
    assert str(version) not in (project / ".venv" / "pyvenv.cfg").read_text()


# --- the micromamba backend --------------------------------------------------------------

@linux_only
@pytest.mark.parametrize("how", ["not-an-object", "garbage"])
def test_damaged_conda_solution_is_solved_again(built_conda: Path, pyve: PyveRunner,
                                                how: str) -> None:
    """Said in words, once: not the file's name, not a "conda-lock.yml changed" that the
    lock check made up from the damaged file, not a JSON parser's message."""
    (solution,) = (built_conda / ".pyve" / "envs").glob("*.solution.json")
    solution.write_bytes(DAMAGE[how](solution.read_bytes()))
    out = _build(pyve)
    assert "(the recorded solve is damaged)" in stage_line(out, "conda-solve"), out
    assert_whole(built_conda, "micromamba")


@linux_only
def test_wrong_shape_conda_solution_is_solved_again(built_conda: Path, pyve: PyveRunner) -> None:
    """A solution whose entries doit cannot use (`url: 5`) is damaged like a truncated one."""
    import json

    (solution,) = (built_conda / ".pyve" / "envs").glob("*.solution.json")
    entries = json.loads(solution.read_text())
    entries[0]["url"] = 5
    solution.write_text(json.dumps(entries))
    out = _build(pyve)
    assert "(the recorded solve is damaged)" in stage_line(out, "conda-solve"), out
    assert_whole(built_conda, "micromamba")


@linux_only
@pytest.mark.parametrize("how", ["garbage"])
def test_damaged_conda_marker_rebuilds_env(built_conda: Path, pyve: PyveRunner,
                                           how: str) -> None:
    marker = env_python(built_conda, "micromamba").parent.parent / conda_backend.MARKER
    marker.write_bytes(DAMAGE[how](marker.read_bytes()))
    out = _build(pyve)
    assert "(the environment's pyve marker is damaged)" in stage_line(out, "create-env"), out
    assert ran(out, "pip-deps"), out
    assert_whole(built_conda, "micromamba")


@linux_only
def test_moved_conda_project_gets_a_new_prefix(built_conda: Path, pyve: PyveRunner,
                                               tmp_path: Path) -> None:
    new = tmp_path / "moved" / "proj"
    new.parent.mkdir()
    shutil.move(str(built_conda), str(new))
    out = _build(pyve, cwd=new)
    assert "the project moved" in stage_line(out, "create-env"), out
    assert ran(out, "pip-deps"), out
    assert_whole(new, "micromamba")
    prefix = env_python(new, "micromamba").parent.parent
    scripts = [p for p in (prefix / "bin").iterdir() if p.is_file() and not p.is_symlink()]
    for script in scripts:
        head = script.read_bytes()[:200]
        assert str(built_conda).encode() not in head, script


@linux_only
def test_deleted_conda_state_and_env(built_conda: Path, pyve: PyveRunner) -> None:
    """.pyve/ removed by hand (not by purge): the next build makes it all again."""
    shutil.rmtree(built_conda / ".pyve")
    _build(pyve)
    assert_whole(built_conda, "micromamba")


DEEP = b"[" * 100_000 + b"]" * 100_000  # json's C scanner gives up with RecursionError


@pytest.mark.parametrize("record", ["stamps/pip-deps.contents.json", "stamps/pip-deps",
                                    "fast.json"])
def test_deeply_nested_record_is_discarded_and_rebuilt(built_venv: Path, pyve: PyveRunner,
                                                       record: str) -> None:
    """A record nested past what json reads is damaged like any other: the next build
    re-makes it (it used to crash every build and run until deleted by hand)."""
    (built_venv / ".pyve" / record).write_bytes(DEEP)
    for command in (("run", "python", "-c", "import alpha"), ("status",), ("doctor",)):
        result = pyve(*command)
        assert "internal error" not in result.output and "Traceback" not in result.output, \
            (command, result.output)
    _build(pyve)
    assert_whole(built_venv, "venv")
    assert "Nothing to do" in _build(pyve)
