"""Files pulled in by -r/-c includes and local projects are inputs: editing one makes the
stage that reads it stale everywhere (build --check, build, status, fingerprint, --frozen),
and an include cycle or a missing include is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only, write_tiny_project
from tests.support.conda_helpers import assert_one_error, python_env, ran
from tests.support.helpers import py, stage_line


def _installed(project: Path, name: str) -> bool:
    return py(project, f"import {name}").returncode == 0


@pytest.mark.parametrize("option", ["-r", "--requirement", "-c", "--constraint="])
def test_edit_inside_an_include_is_seen(project: Path, pyve: PyveRunner, option: str) -> None:
    (project / "requirements").mkdir()
    if option.startswith(("-c", "--constraint")):
        (project / "requirements.txt").write_text(f"alpha\n{option} requirements/pins.txt\n"
                                                  .replace("= ", "="))
        (project / "requirements" / "pins.txt").write_text("alpha==1.0\n")
        edit, after = "alpha==2.0\n", "import alpha; assert alpha.__version__ == '2.0'"
    else:
        (project / "requirements.txt").write_text(f"{option} requirements/test.in\n")
        (project / "requirements" / "test.in").write_text("gamma\n")
        edit, after = "gamma\nalpha\n", "import alpha"
    pyve("init", "--yes", check=True)
    prints = json.loads(pyve("fingerprint", "--json", check=True).stdout)
    name = "pins.txt" if "pins" in (project / "requirements.txt").read_text() else "test.in"
    (project / "requirements" / name).write_text(edit)

    check = pyve("build", "--check")
    assert check.returncode == 1, check.output
    assert f"stale: pip-deps: requirements/{name} changed" in check.stdout
    status = json.loads(pyve("status", "--json", check=True).stdout)
    assert status["up_to_date"] is False
    assert json.loads(pyve("fingerprint", "--json", check=True).stdout) != prints
    frozen = pyve("build", "--frozen")
    assert frozen.returncode != 0 and f"requirements/{name} changed" in frozen.output

    build = pyve("build", check=True)
    assert "requirements/" + name + " changed" in stage_line(build.stdout, "pip-deps")
    assert py(project, after).returncode == 0, build.output
    assert pyve("build", "--check").returncode == 0
    assert pyve("build", "--frozen").returncode == 0


def test_a_local_projects_metadata_is_an_input(project: Path, pyve: PyveRunner) -> None:
    write_tiny_project(project / "libs" / "tiny", requires=("gamma",))
    (project / "requirements.txt").write_text("-e ./libs/tiny\n")
    pyve("init", "--yes", check=True)
    assert not _installed(project, "alpha")
    pyproject = project / "libs" / "tiny" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["gamma"]', '["gamma", "alpha"]'))
    (project / "libs" / "tiny" / "_backend" / "tinybackend.py").write_text(
        (project / "libs" / "tiny" / "_backend" / "tinybackend.py").read_text()
        .replace("('gamma',)", "('gamma', 'alpha')"))
    check = pyve("build", "--check")
    assert "stale: pip-deps: libs/tiny/pyproject.toml changed" in check.stdout
    pyve("build", check=True)
    assert _installed(project, "alpha")


def test_include_cycle_is_one_error(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("-r a.txt\n")
    (project / "a.txt").write_text("-r b.txt\n")
    (project / "b.txt").write_text("alpha\n-r a.txt\n")
    result = pyve("init", "--yes")
    assert_one_error(result, "requirements include cycle: a.txt -> b.txt -> a.txt",
                     "b.txt, line 2")
    assert not (project / ".venv").exists()


def test_missing_include_is_one_error(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("alpha\n-c pins/none.txt\n")
    result = pyve("init", "--yes")
    assert_one_error(result, "requirements.txt, line 2 (-c pins/none.txt)",
                     "pins/none.txt not found")


@linux_only
def test_conda_pip_section_include_is_an_input(project: Path, pyve: PyveRunner,
                                               local_channel: Path) -> None:
    python_env(project, local_channel, pip=["-r requirements/pip.txt"])
    (project / "requirements").mkdir()
    (project / "requirements" / "pip.txt").write_text("gamma\n")
    pyve("init", "--yes", check=True)
    (project / "requirements" / "pip.txt").write_text("gamma\nalpha\n")
    check = pyve("build", "--check")
    assert "stale: pip-deps: requirements/pip.txt changed" in check.stdout
    assert "stale: conda-lock: requirements/pip.txt changed" in check.stdout
    frozen = pyve("build", "--frozen")
    assert frozen.returncode != 0 and "requirements/pip.txt changed" in frozen.output
    build = pyve("build", check=True)
    assert ran(build.stdout, "pip-deps") and ran(build.stdout, "conda-lock")
    lock = (project / "conda-lock.yml").read_text()
    assert "name: alpha" in lock
    assert pyve("build", "--check").returncode == 0
    assert pyve("build", "--frozen").returncode == 0


def test_a_variable_in_an_include_path_is_an_input(project: Path, pyve: PyveRunner) -> None:
    """`-r ${REQ_DIR}/x.txt`, as pip and uv read it: another value of REQ_DIR is another file,
    so the no-op answer (the fast path too) must not say "Nothing to do"."""
    for folder, name in (("one", "alpha"), ("two", "gamma")):
        (project / folder).mkdir()
        (project / folder / "x.txt").write_text(f"{name}\n")
    (project / "requirements.txt").write_text("-r ${REQ_DIR}/x.txt\n")
    pyve("init", "--yes", env={"REQ_DIR": "one"}, check=True)
    assert "Nothing to do" in pyve("build", env={"REQ_DIR": "one"}, check=True).stdout
    assert pyve("build", "--check", env={"REQ_DIR": "two"}).returncode == 1
    build = pyve("build", env={"REQ_DIR": "two"}, check=True)
    assert "REQ_DIR" in stage_line(build.stdout, "pip-deps"), build.stdout
    assert _installed(project, "gamma") and not _installed(project, "alpha")
    assert "Nothing to do" in pyve("build", env={"REQ_DIR": "two"}, check=True).stdout
