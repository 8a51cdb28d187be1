"""project.py: .gitignore lines (once, user lines and mode kept), pins, pyve.toml."""

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
    read_config,
    read_python_pin,
    remove_gitignore_lines,
)


@pytest.mark.parametrize("before", ["", "a\n", "a", "a\n\n", ".venv/\nb\n"])
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
    if before:
        assert gi.read_text() == before.rstrip("\n") + "\n" if before.strip() else True
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
