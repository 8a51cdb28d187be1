"""`pyve purge` removes only what pyve made: never through a symlink out of the project,
never the user's .env / .tool-versions / .python-version or any file it did not create;
`--dry-run` lists what would go and removes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.e2e.faults import setup
from tests.e2e.helpers import tree

USER_FILES = {".env": "SECRET=1\n", ".tool-versions": "python 3.11.7\n",
              ".python-version": "3.11\n", "notes.txt": "mine\n", "requirements.txt": "beta\n"}


@pytest.fixture
def built(project: Path, pyve: PyveRunner) -> Path:
    setup(project, "venv")
    for name, text in USER_FILES.items():
        (project / name).write_text(text)
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    assert pyve("build").returncode == 0
    return project


def test_purge_keeps_every_user_file(built: Path, pyve: PyveRunner) -> None:
    (built / ".venv" / "user-note.txt").write_text("inside the venv: pyve's, goes with it\n")
    result = pyve("purge")
    assert result.returncode == 0, result.output
    assert not (built / ".venv").exists() and not (built / ".pyve").exists()
    for name, text in USER_FILES.items():
        assert (built / name).read_text() == text, name
    assert (built / "pyve.toml").is_file() and (built / "requirements.lock.txt").is_file()
    assert not (built / ".gitignore").exists()  # pyve created it; only pyve's lines were in it


def test_dry_run_lists_and_removes_nothing(built: Path, pyve: PyveRunner) -> None:
    before = {k: v for k, v in tree(built).items() if not k.startswith(".pyve/")}
    result = pyve("purge", "--dry-run")
    assert result.returncode == 0, result.output
    assert "would remove .venv/" in result.stdout and "would remove .pyve/" in result.stdout
    assert ".gitignore" in result.stdout
    for name in USER_FILES:
        assert name not in result.stdout.replace(".gitignore", "")
    after = {k: v for k, v in tree(built).items() if not k.startswith(".pyve/")}
    assert after == before


@pytest.mark.parametrize("name", [".venv", ".pyve"])
def test_symlink_out_of_the_project_is_not_followed(project: Path, pyve: PyveRunner,
                                                    tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyvenv.cfg").write_text("home = /usr/bin\n")  # looks like a venv
    (outside / "precious.txt").write_text("do not delete\n")
    (outside / "stamps").mkdir()
    (outside / "stamps" / "x").write_text("x\n")
    before = tree(outside)
    (project / name).symlink_to(outside)
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("purge")
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    after = tree(outside)
    after.pop("lock", None)  # the project lock lives in .pyve/, wherever the user put it
    assert after == before
    assert (project / name).is_symlink()


def test_purge_in_a_project_pyve_never_built(project: Path, pyve: PyveRunner) -> None:
    for name, text in USER_FILES.items():
        (project / name).write_text(text)
    (project / ".venv").mkdir()  # not a venv: a folder of the user's
    (project / ".venv" / "data.csv").write_text("1,2\n")
    before = tree(project)
    result = pyve("purge")
    assert result.returncode == 0, result.output
    assert tree(project) == before
