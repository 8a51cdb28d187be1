"""reqfiles: every file a pip install of the project's sources reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.errors import PyveError
from pyve.reqfiles import files_of_pip_section, logical_lines, requirement_files, scan


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
        ("alpha==1     --hash=sha256:aa", 2), ("beta", 5)]


# --- includes pip reads but pyve must not be fooled by (issue 22, part 4) -------------------

@pytest.mark.parametrize(("text", "needle"), [
    ("alpha\x00\n", "requirements.txt: line 1 has a NUL byte"),
    ("alpha\n-r a\x00b.txt\n", "requirements.txt: line 2 has a NUL byte"),
    ("-r /proc/self/cmdline\n", "/proc/self/cmdline: line 1 has a NUL byte"),
    ("-r /dev/zero\n", "(-r /dev/zero): /dev/zero is not a regular file"),
    ("-r https://example.com/r.txt\n", "pyve does not read remote includes"),
    ("-r loop.txt\n", "(-r loop.txt): loop.txt is a symlink loop"),
    ("-r fifo\n", "(-r fifo): fifo is not a regular file"),
])
def test_what_no_requirements_file_can_be_is_one_line(tmp_path: Path, text: str,
                                                      needle: str) -> None:
    import os

    (tmp_path / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(tmp_path / "fifo")
    write(tmp_path / "requirements.txt", text)
    with pytest.raises(PyveError) as info:
        requirement_files(tmp_path, ["requirements.txt"])  # never blocks on the fifo
    assert needle in info.value.message and "\n" not in info.value.message


def test_deep_includes_stop_at_a_bound(tmp_path: Path) -> None:
    for i in range(1000):
        write(tmp_path / f"n{i}.txt", f"-r n{i + 1}.txt\n")
    write(tmp_path / "n1000.txt", "alpha\n")
    with pytest.raises(PyveError) as info:
        requirement_files(tmp_path, ["n0.txt"])
    assert "includes nested more than 100 deep" in info.value.message


def test_a_continued_include_path_is_joined_as_pip_joins_it(tmp_path: Path) -> None:
    """pip's join_lines puts nothing between the parts: `-r sub/\\` + `x.txt` is sub/x.txt."""
    write(tmp_path / "requirements.txt", "-r sub/\\\nx.txt\nalpha \\\n  >=1\n")
    write(tmp_path / "sub/x.txt", "beta\n")
    assert requirement_files(tmp_path, ["requirements.txt"]) == ["requirements.txt",
                                                                 "sub/x.txt"]
    assert [line.text for line in logical_lines("alpha \\\n  >=1\n")] == ["alpha   >=1"]


def test_a_variable_in_an_include_path_is_read_as_pip_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip (and uv) expand ${NAME} from the environment; an unset one stays as written. The
    names and values are part of the stage's config, so another value re-runs it."""
    write(tmp_path / "requirements.txt", "-r ${REQ_DIR}/x.txt\n")
    write(tmp_path / "one/x.txt", "alpha\n")
    write(tmp_path / "two/x.txt", "beta\n")
    monkeypatch.setenv("REQ_DIR", "one")
    assert requirement_files(tmp_path, ["requirements.txt"]) == ["requirements.txt",
                                                                 "one/x.txt"]
    assert scan(tmp_path, ["requirements.txt"]).variables == {"REQ_DIR": "one"}
    monkeypatch.setenv("REQ_DIR", "two")
    assert requirement_files(tmp_path, ["requirements.txt"])[-1] == "two/x.txt"
    monkeypatch.delenv("REQ_DIR")
    with pytest.raises(PyveError) as info:
        requirement_files(tmp_path, ["requirements.txt"])
    assert "included file ${REQ_DIR}/x.txt not found" in info.value.message


def test_dynamic_metadata_files_and_their_includes(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
          '[tool.setuptools.dynamic]\ndependencies = {file = "requirements/base.txt"}\n'
          'optional-dependencies.dev = {file = ["requirements/dev.txt"]}\n'
          '[tool.hatch.metadata.hooks.requirements_txt]\n'
          'optional-dependencies.docs = ["docs.txt"]\n')
    write(tmp_path / "requirements/base.txt", "alpha\n-c pins.txt\n")
    write(tmp_path / "requirements/pins.txt", "alpha<3\n")
    write(tmp_path / "requirements/dev.txt", "beta\n")
    write(tmp_path / "docs.txt", "gamma\n")
    # hatch's default file (no `files`) is read when it exists: requirements.txt is absent
    assert requirement_files(tmp_path, ["pyproject.toml"]) == [
        "pyproject.toml", "requirements/base.txt", "requirements/pins.txt",
        "requirements/dev.txt", "docs.txt"]


def test_a_local_project_built_without_e_counts_its_sources(tmp_path: Path) -> None:
    import subprocess

    lib = tmp_path / "lib"
    write(lib / "pyproject.toml", '[project]\nname = "Lib_x"\n')
    write(lib / "lib/__init__.py", "")
    for skipped in ("build/x.py", "dist/x.whl", "lib.egg-info/PKG-INFO", ".venv/x",
                    "lib/__pycache__/x.pyc", ".git/config", ".tox/x"):
        write(lib / skipped, "")
    write(tmp_path / "requirements.txt", "./lib ; python_version >= '3'\n-e ./lib\n")
    inputs = scan(tmp_path, ["requirements.txt"])
    assert inputs.trees == {"lib": ["lib/lib/__init__.py", "lib/pyproject.toml"]}
    assert inputs.markers == {"lib": "python_version >= '3'"}
    assert inputs.projects == {"lib": "lib-x"}
    # a git checkout: what git lists (tracked, and new files it does not ignore)
    (lib / ".git" / "config").unlink()
    subprocess.run(["git", "init", "-q", str(lib)], check=True)
    write(lib / ".gitignore", "secret.txt\n")
    write(lib / "secret.txt", "")
    write(lib / "new.py", "")
    assert scan(tmp_path, ["requirements.txt"]).trees["lib"] == [
        "lib/.gitignore", "lib/lib/__init__.py", "lib/new.py", "lib/pyproject.toml"]
    # editable: its metadata only
    write(tmp_path / "requirements.txt", "-e ./lib\n")
    assert requirement_files(tmp_path, ["requirements.txt"]) == [
        "requirements.txt", "lib/pyproject.toml"]


def test_what_an_install_reads_of_pyproject(tmp_path: Path) -> None:
    from pyve.fingerprint import file_digest, input_digest

    path = tmp_path / "pyproject.toml"
    base = ('[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'
            'build-backend = "setuptools.build_meta"\n[project]\nname = "x"\n')
    path.write_text(base)
    first = input_digest(path)
    path.write_text(base + '[tool.ruff]\nline-length = 100\n[tool.mypy]\nstrict = true\n')
    assert input_digest(path) == first  # tools that install nothing
    for table in ("[tool.setuptools_scm]\n", "[tool.uv]\nindex-url = 'x'\n", "[tool.pyve]\n",
                  '[project.optional-dependencies]\ndev = ["a"]\n', "[dependency-groups]\n"):
        path.write_text(base + table)
        assert input_digest(path) != first, table
    path.write_text(base.replace("[project]", 'backend-path = ["."]\n[project]'))
    in_tree = input_digest(path)
    path.write_text(base.replace("[project]", 'backend-path = ["."]\n[project]')
                    + "[tool.ruff]\n")
    assert input_digest(path) != in_tree  # the project's own backend may read any table
    path.write_text(base + "[tool.ruff\n")  # not TOML: the bytes
    assert input_digest(path) == file_digest(path)
