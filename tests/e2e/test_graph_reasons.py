"""The task graph as a user sees it: each stage ran / up to date with its reason; a fresh
copy of pyve.toml + requirements.txt builds the same env; freeze owns its lock file only."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyve.backends.venv.backend import read_pyvenv_cfg
from tests.conftest import PyveRunner
from tests.support.helpers import py, stage_line, stages_ran


def test_stage_by_stage_reasons(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    first = pyve("init", "--yes", check=True)
    for stage in ("detect", "create-env", "pip-deps", "freeze"):
        assert "ran" in stage_line(first.stdout, stage) and "first build" in first.stdout
    assert "Ran 4 of 4 stages." in first.stdout

    second = pyve("build", check=True)
    assert stages_ran(second.stdout) == []
    assert "Nothing to do: every stage is up to date." in second.stdout

    # same bytes, new mtime: content decides, nothing runs
    (project / "requirements.txt").write_text("gamma\n")
    assert stages_ran(pyve("build", check=True).stdout) == []

    shutil.rmtree(project / ".venv")
    third = pyve("build", check=True)
    assert stages_ran(third.stdout) == ["create-env", "pip-deps", "freeze"]
    assert "(environment missing)" in stage_line(third.stdout, "create-env")
    assert "create-env re-ran" in stage_line(third.stdout, "pip-deps")
    assert py(project, "import gamma").returncode == 0

    (project / "requirements.lock.txt").unlink()
    fourth = pyve("build", check=True)
    assert stages_ran(fourth.stdout) == ["freeze"]
    assert "requirements.lock.txt missing" in stage_line(fourth.stdout, "freeze")

    forced = pyve("build", "--force", check=True)
    assert stages_ran(forced.stdout) == ["detect", "create-env", "pip-deps", "freeze"]


def test_fresh_copy_builds_the_same_env(project: Path, pyve: PyveRunner, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("beta\nalpha<2\n")
    pyve("init", "3.11", "--yes", check=True)
    copy = tmp_path / "clone"
    copy.mkdir()
    for name in ("pyve.toml", "requirements.txt"):
        shutil.copy(project / name, copy / name)
    result = pyve("build", cwd=copy, input="", check=True)
    assert "[Y/n]" not in result.stdout  # every answer was recorded
    assert (copy / "requirements.lock.txt").read_bytes() == (
        project / "requirements.lock.txt").read_bytes()
    made_from = [(cfg.get("version") or cfg.get("version_info"))
                 for cfg in (read_pyvenv_cfg(copy / ".venv"), read_pyvenv_cfg(project / ".venv"))]
    assert made_from[0] is not None and made_from[0] == made_from[1]
    assert py(copy, "import alpha; print(alpha.__version__)").stdout.strip() == "1.0"
    assert ".venv/" in (copy / ".gitignore").read_text()


def test_lock_runs_freeze_alone_and_never_overwrites_a_user_file(project: Path,
                                                                 pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    (project / "requirements.lock.txt").write_text("gamma==0.1\n")  # the user's own file
    result = pyve("init", "--yes")
    assert result.returncode == 1
    assert "requirements.lock.txt exists and was not written by pyve" in result.stderr
    assert (project / "requirements.lock.txt").read_text() == "gamma==0.1\n"
    assert pyve("lock").returncode == 1
    assert (project / "requirements.lock.txt").read_text() == "gamma==0.1\n"

    (project / "requirements.lock.txt").unlink()
    lock = pyve("lock", check=True)
    assert stages_ran(lock.stdout) == ["freeze"]
    assert "create-env" not in lock.stdout and "pip-deps" not in lock.stdout
    text = (project / "requirements.lock.txt").read_text()
    assert text.startswith("# requirements.lock.txt -- written by pyve")
    assert "gamma==0.1 \\\n    --hash=sha256:" in text
    assert stages_ran(pyve("build", check=True).stdout) == []  # lock left the graph fresh
