"""Where a project's dependencies come from besides pyproject's [project] table: the
requirements files setuptools' and hatch's dynamic metadata name, and the source files of a
local project built without -e. Each is an input of the install: an edit to one is seen by
`build --check`, `build`, the fingerprint and `--frozen`, and reaches the env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, write_tiny_project
from tests.support.helpers import py, stage_line
from tests.support.wheel_fixtures import build_wheel

SETUPTOOLS = """[tool.setuptools.dynamic]
dependencies = {file = ["requirements/base.txt"]}
optional-dependencies.dev = {file = ["requirements/dev.txt"]}
"""
HATCH = """[tool.hatch.metadata.hooks.requirements_txt]
files = ["requirements/base.txt"]

[tool.hatch.metadata.hooks.requirements_txt.optional-dependencies]
dev = ["requirements/dev.txt"]
"""


def _dynamic_project(project: Path, tool: str) -> None:
    write_tiny_project(project, requires=(), tool=tool,
                       dynamic=(["requirements/base.txt"], {"dev": ["requirements/dev.txt"]}))
    (project / "requirements").mkdir()
    (project / "requirements" / "base.txt").write_text("gamma\n")
    (project / "requirements" / "dev.txt").write_text("alpha==1.0\n")
    # PEP 685: the extra's name compares normalised
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n'
                                       'extras = ["DEV"]\n')


@pytest.mark.parametrize("tool", [SETUPTOOLS, HATCH], ids=["setuptools", "hatch"])
def test_dynamic_dependency_files_are_inputs(project: Path, pyve: PyveRunner, tool: str) -> None:
    _dynamic_project(project, tool)
    pyve("build", check=True)
    # the dev extra is installed
    assert py(project, "import gamma, alpha; assert alpha.__version__ == '1.0'").returncode == 0
    assert py(project, "import beta").returncode != 0
    prints = json.loads(pyve("fingerprint", "--json", check=True).stdout)

    assert "read too: requirements/base.txt, requirements/dev.txt" in pyve("status").stdout
    edits = {SETUPTOOLS: ("base.txt", "gamma\nbeta\n", "import beta"),  # the dependencies
             HATCH: ("dev.txt", "alpha==2.0\n",  # an extra
                     "import alpha; assert alpha.__version__ == '2.0'")}
    for name, edit, after in [edits[tool]]:
        (project / "requirements" / name).write_text(edit)
        check = pyve("build", "--check")
        assert check.returncode == 1, check.output
        assert f"stale: pip-deps: requirements/{name} changed" in check.stdout
        assert json.loads(pyve("fingerprint", "--json", check=True).stdout) != prints
        frozen = pyve("build", "--frozen")
        assert frozen.returncode != 0 and f"requirements/{name} changed" in frozen.output
        build = pyve("build", check=True)
        assert f"requirements/{name} changed" in stage_line(build.stdout, "pip-deps")
        assert py(project, after).returncode == 0, build.output
        assert pyve("build", "--check").returncode == 0
        assert pyve("build", "--frozen").returncode == 0


def test_a_missing_dynamic_file_is_one_error(project: Path, pyve: PyveRunner) -> None:
    _dynamic_project(project, SETUPTOOLS)
    (project / "requirements" / "dev.txt").unlink()
    result = pyve("build")
    assert result.returncode == 1
    assert ("error: pyproject.toml [tool.setuptools.dynamic] optional-dependencies.dev: "
            "included file requirements/dev.txt not found") in result.stderr, result.output


def test_an_extra_declared_nowhere_is_still_refused(project: Path, pyve: PyveRunner) -> None:
    _dynamic_project(project, HATCH)
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n'
                                       'extras = ["docs"]\n')
    result = pyve("build")
    assert result.returncode == 2
    assert "'docs' is not in [project.optional-dependencies] of pyproject.toml, nor in its " \
        "setuptools or hatch dynamic metadata (it has: dev)" in result.stderr, result.stderr


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_local_project_built_from_its_sources(project: Path, pyve: PyveRunner,
                                                installer: str) -> None:
    lib = project / "libs" / "tiny"
    write_tiny_project(lib, requires=())
    (lib / "src" / "tiny.py").write_text('VALUE = "one"\n')
    (lib / "build").mkdir()  # build output, caches: never inputs
    (lib / "build" / "junk.py").write_text("")
    (lib / "src" / "__pycache__").mkdir()
    (lib / "src" / "__pycache__" / "tiny.cpython.pyc").write_bytes(b"")
    (project / "requirements.txt").write_text("./libs/tiny\n")
    (project / "pyve.toml").write_text(f'backend = "venv"\ninstall_deps = true\n'
                                       f'installer = "{installer}"\n')
    pyve("build", check=True)
    assert py(project, "import tiny; assert tiny.VALUE == 'one'").returncode == 0
    (lib / "build" / "junk.py").write_text("x = 1\n")
    (lib / "src" / "__pycache__" / "tiny.cpython.pyc").write_bytes(b"x")
    assert pyve("build", "--check").returncode == 0

    (lib / "src" / "tiny.py").write_text('VALUE = "two"\n')
    check = pyve("build", "--check")
    assert check.returncode == 1, check.output
    assert "stale: pip-deps: libs/tiny/src/tiny.py changed" in check.stdout
    frozen = pyve("build", "--frozen")
    assert frozen.returncode != 0 and "libs/tiny/ changed" in frozen.output
    pyve("build", check=True)
    assert py(project, "import tiny; assert tiny.VALUE == 'two'").returncode == 0, \
        "the env still has the old build of libs/tiny"
    assert pyve("build", "--check").returncode == 0
    (lib / "src" / "tiny.py").write_text('VALUE = "three"\n')  # the locked install too
    assert pyve("build", "--frozen").returncode != 0


def test_a_tool_table_edit_does_not_reinstall(project: Path, pyve: PyveRunner,
                                              sandbox_env: dict[str, str],
                                              tmp_path: Path) -> None:
    """[tool.ruff] and [tool.pytest.ini_options] change nothing an install reads; [project]
    does. (The build backend comes from an index here: with `backend-path` the project's own
    code builds it, and then every table counts.)"""
    write_tiny_project(project, requires=("gamma",))
    backend = (project / "_backend" / "tinybackend.py").read_text()
    house = tmp_path / "backend-wheel"
    build_wheel(house, "tinybackend", "1.0", code=backend)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text()
                         .replace('requires = []', 'requires = ["tinybackend"]')
                         .replace('backend-path = ["_backend"]\n', ""))
    env = {"PIP_FIND_LINKS": f"{sandbox_env['PIP_FIND_LINKS']} {house}"}
    pyve("build", env=env, check=True)
    prints = pyve("fingerprint", "--json", env=env, check=True).stdout

    pyproject.write_text(pyproject.read_text() + "\n[tool.ruff]\nline-length = 100\n\n"
                         "[tool.pytest.ini_options]\naddopts = \"-q\"\n")
    check = pyve("build", "--check", env=env)
    assert check.returncode == 0, check.output
    assert pyve("fingerprint", "--json", env=env, check=True).stdout == prints
    assert pyve("build", "--frozen", env=env).returncode == 0
    build = pyve("build", env=env, check=True)
    assert "ran" not in stage_line(build.stdout, "pip-deps")

    pyproject.write_text(pyproject.read_text().replace('["gamma"]', '["gamma", "alpha"]'))
    check = pyve("build", "--check", env=env)
    assert check.returncode == 1 and "stale: pip-deps: pyproject.toml changed" in check.stdout
    pyve("build", env=env, check=True)
    assert py(project, "import alpha").returncode == 0
