"""`pyve purge` removes only what pyve made: never through a symlink out of the project
(a symlinked .pyve or .pyve/envs is unlinked, never followed), never a .venv without pyve's
marker, never the user's .env / .tool-versions / .python-version or any file it did not
create; `--dry-run` lists what would go and removes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.faults import setup
from tests.support.helpers import tree

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
    if name == ".venv":  # not pyve's (pyve never makes a symlinked .venv): kept, and said
        assert (project / name).is_symlink()
        assert "Kept .venv/: pyve did not make it (a symlink)" in result.stdout
    else:  # .pyve is pyve's name: the link goes, what it points at stays
        assert not (project / name).exists() and not (project / name).is_symlink()


def test_purge_in_a_project_pyve_never_built(project: Path, pyve: PyveRunner) -> None:
    for name, text in USER_FILES.items():
        (project / name).write_text(text)
    (project / ".venv").mkdir()  # not a venv: a folder of the user's
    (project / ".venv" / "data.csv").write_text("1,2\n")
    before = tree(project)
    result = pyve("purge")
    assert result.returncode == 0, result.output
    assert tree(project) == before


def _user_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", where / ".venv"],
                   check=True)
    (where / ".venv" / "NOTES.txt").write_text("mine\n")
    return where / ".venv"


@pytest.mark.parametrize("via_c", [False, True], ids=["cwd", "-C"])
def test_a_venv_pyve_did_not_make_is_kept(project: Path, pyve: PyveRunner, tmp_path: Path,
                                          via_c: bool) -> None:
    """`python3 -m venv .venv; pyve purge` (or `pyve -C ~ purge`) deleted the user's venv."""
    venv = _user_venv(project)
    before = tree(venv)
    if via_c:
        result = pyve("-C", str(project), "purge", cwd=tmp_path)
    else:
        result = pyve("purge")
    assert result.returncode == 0, result.output
    assert tree(venv) == before
    assert "Kept .venv/: pyve did not make it (no pyve marker)" in result.stdout
    assert "Removed: .venv" not in result.stdout
    dry = pyve("purge", "--dry-run")
    assert "would keep .venv/" in dry.stdout and "would remove .venv" not in dry.stdout


@pytest.mark.parametrize("link", [".pyve", ".pyve/envs"])
def test_purge_unused_never_follows_a_symlink(project: Path, pyve: PyveRunner,
                                              tmp_path: Path, link: str) -> None:
    """With .pyve/envs (or .pyve) a symlink to a user folder, `purge --unused` deleted the
    user's files."""
    outside = tmp_path / "outside"
    (outside / "envs" / "old-project").mkdir(parents=True)
    (outside / "envs" / "old-project" / "data.csv").write_text("1,2\n")
    (outside / "envs" / "notes.txt").write_text("mine\n")
    (outside / "old-project" / "x").mkdir(parents=True)
    (project / "pyve.toml").write_text('backend = "venv"\n')
    if link == ".pyve":
        (project / ".pyve").symlink_to(outside)
    else:
        (project / ".pyve").mkdir()
        (project / ".pyve" / "envs").symlink_to(outside / "envs")
    before = tree(outside)
    result = pyve("purge", "--unused")
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    assert "symlink" in result.stdout
    assert tree(outside) == before
    # a full purge unlinks the link, and still removes nothing through it
    assert pyve("purge").returncode == 0
    assert not (project / link).is_symlink()
    after = tree(outside)
    after.pop("lock", None)
    assert after == before


def test_purge_finishes_a_removal_a_kill_interrupted(built: Path, pyve: PyveRunner) -> None:
    leftover = built / ".venv.pyve-old-0123456789ab"
    (leftover / "lib").mkdir(parents=True)
    (leftover / "lib" / "half.py").write_text("x = 1\n")
    result = pyve("purge", check=True)
    assert not leftover.exists() and not (built / ".venv").exists()
    assert ".venv.pyve-old-0123456789ab/" in result.stdout


@pytest.mark.parametrize("kind", ["folder", "latin-1"])
def test_a_gitignore_pyve_cannot_read_blocks_neither_build_nor_purge(
        project: Path, pyve: PyveRunner, kind: str) -> None:
    setup(project, "venv")
    gi = project / ".gitignore"
    if kind == "folder":
        gi.mkdir()
        (gi / "x").write_text("x\n")
    else:
        gi.write_bytes("caf\u00e9/\n".encode("latin-1"))
    built = pyve("build")
    assert built.returncode == 0 and "Traceback" not in built.output, built.output
    dry = pyve("purge", "--dry-run")
    assert dry.returncode == 0 and "Traceback" not in dry.output, dry.output
    result = pyve("purge")
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    if kind == "folder":
        assert ".gitignore is a folder: pyve left it alone" in built.stdout
        assert (gi / "x").read_text() == "x\n"
    else:
        assert gi.read_bytes() == "caf\u00e9/\n".encode("latin-1")
