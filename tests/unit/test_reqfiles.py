"""reqfiles: every file a pip install of the project's sources reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.errors import PyveError
from pyve.reqfiles import files_of_pip_section, logical_lines, requirement_files


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_includes_followed_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "-r requirements/test.in\n--constraint=c.txt\nalpha\n")
    write(tmp_path / "requirements/test.in", "-rbase.in  # nested, relative to requirements/\n")
    write(tmp_path / "requirements/base.in", "beta\n")
    write(tmp_path / "c.txt", "alpha<3\n")
    assert requirement_files(tmp_path, ["requirements.txt"]) == [
        "requirements.txt", "requirements/test.in", "requirements/base.in", "c.txt"]


def test_a_shared_include_is_listed_once_and_is_no_cycle(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "-r a.txt\n-r b.txt\n")
    write(tmp_path / "a.txt", "-c common.txt\n")
    write(tmp_path / "b.txt", "-c common.txt\n")
    write(tmp_path / "common.txt", "alpha\n")
    assert requirement_files(tmp_path, ["requirements.txt"]) == [
        "requirements.txt", "a.txt", "common.txt", "b.txt"]


def test_include_cycle_is_one_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "-r a.txt\n")
    with pytest.raises(PyveError) as info:
        requirement_files(tmp_path, ["a.txt"])
    assert info.value.message == ("requirements include cycle: a.txt -> b.txt -> a.txt "
                                  "(b.txt, line 1 (-r a.txt))")


def test_missing_include_names_the_file_and_the_line(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "alpha\n\n-c constraints/missing.txt\n")
    with pytest.raises(PyveError) as info:
        requirement_files(tmp_path, ["requirements.txt"])
    assert "requirements.txt, line 3 (-c constraints/missing.txt)" in info.value.message
    assert "constraints/missing.txt not found" in info.value.message


def test_local_projects_metadata_is_read(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "-e ./libs/core\n./libs/extra[fast]\nfile:./libs/x\n")
    write(tmp_path / "libs/core/pyproject.toml", "[project]\nname='core'\n")
    write(tmp_path / "libs/core/setup.cfg", "[metadata]\n")
    write(tmp_path / "libs/extra/setup.py", "")
    assert requirement_files(tmp_path, ["requirements.txt"]) == [
        "requirements.txt", "libs/core/pyproject.toml", "libs/core/setup.cfg",
        "libs/extra/setup.py"]


def test_the_project_itself_counts_its_setup_files(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname='x'\n")
    write(tmp_path / "setup.py", "")
    assert requirement_files(tmp_path, ["pyproject.toml"]) == ["pyproject.toml", "setup.py"]


def test_urls_names_and_options_are_not_files(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "requests>=2\n--index-url https://x/simple\n"
          "pkg @ https://x/pkg.whl\n-e git+https://x/y.git#egg=y\n--hash=sha256:ab\n")
    assert requirement_files(tmp_path, ["requirements.txt"]) == ["requirements.txt"]


def test_an_include_outside_the_project_is_absolute(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "requirements.txt", "-r ../shared.txt\n")
    write(tmp_path / "shared.txt", "alpha\n")
    assert requirement_files(root, ["requirements.txt"]) == [
        "requirements.txt", str(tmp_path / "shared.txt")]


def test_pip_section_is_read_from_the_env_files_folder(tmp_path: Path) -> None:
    write(tmp_path / "req/dev.txt", "-c ../pins.txt\n")
    write(tmp_path / "pins.txt", "alpha==1\n")
    assert files_of_pip_section(tmp_path, ["alpha", "-r req/dev.txt"], tmp_path,
                                "environment.yml pip: section") == ["req/dev.txt", "pins.txt"]


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    text = "# top\nalpha==1 \\\n    --hash=sha256:aa  # why\n\nbeta\t# tab comment\n"
    assert [(line.text, line.number) for line in logical_lines(text)] == [
        ("alpha==1      --hash=sha256:aa", 2), ("beta", 5)]
