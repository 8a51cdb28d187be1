"""project.py: .gitignore lines (once; user lines, bytes, line endings, mode and symlink kept;
deleted only if pyve created it), pins, pyve.toml."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pyve.errors import UsageError
from pyve.project import (
    GITIGNORE_MARK,
    Project,
    ensure_gitignore,
    gitignore_problem,
    read_config,
    read_python_pin,
    remove_gitignore_lines,
)


@pytest.mark.parametrize("before", ["", "a\n", "a", "a\n\n", ".venv/\nb\n", "a\r\nb", "\n"])
def test_gitignore_round_trip(tmp_path: Path, before: str) -> None:
    gi = tmp_path / ".gitignore"
    if before:
        gi.write_text(before)
        os.chmod(gi, 0o600)
    ensure_gitignore(tmp_path)
    text = gi.read_text()
    assert text.count(GITIGNORE_MARK) == 1
    assert text.count(".venv/") == 1 and text.count(".pyve/") == 1
    assert "\n\n\n" not in text
    ensure_gitignore(tmp_path)
    assert gi.read_text() == text  # idempotent
    if before:
        assert stat.S_IMODE(gi.stat().st_mode) == 0o600
    remove_gitignore_lines(tmp_path)
    if before:  # the exact bytes: "a" once gained a final newline, "a\n\n" lost one
        assert gi.read_bytes() == before.encode()
        assert stat.S_IMODE(gi.stat().st_mode) == 0o600
    else:
        assert not gi.exists()  # pyve made it; nothing of the user's was in it


def test_remove_keeps_user_lines_after_block(tmp_path: Path) -> None:
    gi = tmp_path / ".gitignore"
    gi.write_text("a\n")
    ensure_gitignore(tmp_path)
    gi.write_text(gi.read_text() + "mine/\n")
    assert remove_gitignore_lines(tmp_path) == [".venv/", ".pyve/"]
    assert gi.read_text() == "a\n\nmine/\n"
    assert remove_gitignore_lines(tmp_path) == []


def test_crlf_endings_are_kept(tmp_path: Path) -> None:
    gi = tmp_path / ".gitignore"
    gi.write_bytes(b"build/\r\n*.pyc\r\n")
    ensure_gitignore(tmp_path)
    data = gi.read_bytes()
    assert data.startswith(b"build/\r\n*.pyc\r\n\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends CRLF
    remove_gitignore_lines(tmp_path)
    assert gi.read_bytes() == b"build/\r\n*.pyc\r\n"


def test_a_gitignore_that_is_not_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    gi = tmp_path / ".gitignore"
    original = "caf\u00e9/\n".encode("latin-1") + b"\xff\xfe junk\n"
    gi.write_bytes(original)
    assert ensure_gitignore(tmp_path) == [".venv/", ".pyve/"]
    assert gi.read_bytes().startswith(original + b"\n" + GITIGNORE_MARK.encode())
    assert remove_gitignore_lines(tmp_path) == [".venv/", ".pyve/"]
    assert gi.read_bytes() == original


def test_a_symlinked_gitignore_stays_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "shared-ignore"
    target.write_text("*.log\n")
    gi = tmp_path / "proj" / ".gitignore"
    gi.parent.mkdir()
    gi.symlink_to(target)
    ensure_gitignore(gi.parent)
    assert gi.is_symlink() and ".venv/" in target.read_text()
    remove_gitignore_lines(gi.parent)
    assert gi.is_symlink() and target.read_text() == "*.log\n"


def test_purge_never_deletes_a_gitignore_git_tracks(tmp_path: Path) -> None:
    """Made by pyve, then committed: purge takes its lines out but keeps the file."""
    import subprocess

    ensure_gitignore(tmp_path)
    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", ".gitignore"], check=True)
    assert remove_gitignore_lines(tmp_path) == [".venv/", ".pyve/"]
    assert (tmp_path / ".gitignore").read_bytes() == b""


def test_purge_never_deletes_a_gitignore_pyve_did_not_create(tmp_path: Path) -> None:
    gi = tmp_path / ".gitignore"
    gi.write_text("")  # the user's, empty
    ensure_gitignore(tmp_path)
    assert remove_gitignore_lines(tmp_path) == [".venv/", ".pyve/"]
    assert gi.is_file() and gi.read_text() == ""
    # a file with only pyve's block in it, but pyve has no record of making it
    gi.write_text(GITIGNORE_MARK + "\n.venv/\n.pyve/\n")
    remove_gitignore_lines(tmp_path)
    assert gi.is_file()


@pytest.mark.parametrize("kind", ["folder", "dangling symlink"])
def test_a_gitignore_pyve_cannot_edit_is_left_alone_in_one_line(tmp_path: Path,
                                                                kind: str) -> None:
    gi = tmp_path / ".gitignore"
    if kind == "folder":
        gi.mkdir()
        (gi / "x").write_text("x\n")
    else:
        gi.symlink_to(tmp_path / "nowhere")
    assert ensure_gitignore(tmp_path) == []
    assert remove_gitignore_lines(tmp_path) == []
    note = gitignore_problem(tmp_path)
    assert note is not None and ".gitignore is" in note and "\n" not in note
    assert gi.is_dir() or gi.is_symlink()


@pytest.mark.parametrize(("files", "pin"), [
    ({}, None),
    ({".python-version": "# comment\n3.12.1\n"}, ("3.12.1", ".python-version")),
    ({".tool-versions": "nodejs 20\npython 3.10.13 3.11.7\n"}, ("3.10.13", ".tool-versions")),
    ({"pyproject.toml": '[project]\nrequires-python = ">=3.11"\n'},
     (">=3.11", "requires-python in pyproject.toml")),
    ({"pyproject.toml": '[project]\nname = "x"\n'}, None),
    ({".python-version": "3.13\n", ".tool-versions": "python 3.10\n",
      "pyproject.toml": '[project]\nrequires-python = ">=3.11"\n'}, ("3.13", ".python-version")),
])
def test_read_python_pin(tmp_path: Path, files: dict[str, str],
                         pin: tuple[str, str] | None) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert read_python_pin(tmp_path) == pin


def test_config_round_trip_and_errors(tmp_path: Path) -> None:
    project = Project.load(tmp_path)
    project.save_config({"backend": "venv", "python": "3.11", "install_deps": True,
                         "installer": None})
    assert read_config(tmp_path / "pyve.toml") == {"backend": "venv", "python": "3.11",
                                                   "install_deps": True}
    (tmp_path / "pyve.toml").write_text("[pyve]\nbackend = 'micromamba'\n")
    assert read_config(tmp_path / "pyve.toml") == {"backend": "micromamba"}
    for text, message in (("backend = \n", "invalid TOML"), ("colour = 'red'\n", "unknown"),
                          ("python = 3.11\n", "must be a string")):
        (tmp_path / "pyve.toml").write_text(text)
        with pytest.raises(UsageError) as info:
            read_config(tmp_path / "pyve.toml")
        assert message in info.value.message
