"""`pyve add` and `pyve remove`: the requirement goes in (or out of) the file the project
already uses, byte for byte around it, and the env and the lock follow in the same command;
a spec that cannot be added leaves the files, the lock and the env as they were."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, write_tiny_project
from tests.support.conda_helpers import env_dirs, python_env
from tests.support.helpers import installed, locked, py, stage_line
from tests.support.wheel_fixtures import build_wheel


def reading_project(root: Path, requires: tuple[str, ...]) -> None:
    """write_tiny_project, with a backend that reads [project].dependencies (and extras) from
    pyproject.toml, as real build backends do."""
    write_tiny_project(root, requires=requires)
    backend = root / "_backend" / "tinybackend.py"
    backend.write_text(backend.read_text().replace(
        f"REQUIRES = {requires!r}",
        "import tomllib\n_P = tomllib.load(open('pyproject.toml', 'rb'))['project']\n"
        "REQUIRES = _P.get('dependencies', []) + [f\"{r}; extra == '{e}'\" for e, rs in "
        "_P.get('optional-dependencies', {}).items() for r in rs]\n"
        "PROVIDES = list(_P.get('optional-dependencies', {}))"))
    text = backend.read_text().replace(
        'meta += "".join(f"Requires-Dist',
        'meta += "".join(f"Provides-Extra: {e}\\n" for e in PROVIDES)\n    '
        'meta += "".join(f"Requires-Dist')
    backend.write_text(text)


def newest_env(project: Path) -> Path:
    """The conda env of the current specs (a spec change makes a new one; the old stays
    until `pyve purge --unused`)."""
    return max(env_dirs(project), key=lambda env: env.stat().st_mtime_ns)


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_add_and_remove_in_requirements_txt(project: Path, pyve: PyveRunner) -> None:
    original = b"alpha  # the first\r\n\r\n# keep this\r\ngamma"  # CRLF, no final newline
    (project / "requirements.txt").write_bytes(original)
    pyve("init", "--yes", check=True)
    result = pyve("add", "beta", check=True)
    assert "added beta>=1.0 to requirements.txt" in result.stdout
    assert (project / "requirements.txt").read_bytes() == original + b"\r\nbeta>=1.0"
    assert " ran " in stage_line(result.stdout, "pip-deps")
    assert "up to date" in stage_line(result.stdout, "create-env")  # only what the edit staled
    assert "beta" in installed(project / ".venv") and "beta" in locked(project)
    assert pyve("build", "--check").returncode == 0  # one command: nothing left stale

    again = pyve("add", "beta", check=True)  # a bare name already there: left as it is
    assert "beta>=1.0 is already in requirements.txt" in again.stdout
    assert (project / "requirements.txt").read_bytes() == original + b"\r\nbeta>=1.0"

    result = pyve("remove", "Beta", check=True)
    assert (project / "requirements.txt").read_bytes() == original
    assert "beta" not in installed(project / ".venv") and "beta" not in locked(project)
    assert pyve("build", "--check").returncode == 0


def test_explicit_spec_is_written_as_given(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--yes", check=True)
    pyve("add", "alpha <2", check=True)
    assert (project / "requirements.txt").read_text() == "gamma\nalpha <2\n"
    assert "alpha-1.0.dist-info" in {p.name for p in
                                     (project / ".venv").glob("lib/python3*/site-packages/*")}


def test_a_spec_that_cannot_be_resolved_changes_nothing(project: Path, pyve: PyveRunner
                                                         ) -> None:
    (project / "requirements.txt").write_bytes(b"alpha\r\n")
    pyve("init", "--yes", check=True)
    lock = (project / "requirements.lock.txt").read_bytes()
    before = installed(project / ".venv")
    result = pyve("add", "nosuchpkg", "beta")
    assert result.returncode != 0
    assert len(errors(result.stderr)) == 1 and "nosuchpkg" in errors(result.stderr)[0]
    assert (project / "requirements.txt").read_bytes() == b"alpha\r\n"
    assert (project / "requirements.lock.txt").read_bytes() == lock
    assert installed(project / ".venv") == before
    assert pyve("build", "--check").returncode == 0


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_spec_that_cannot_be_installed_changes_nothing(project: Path, pyve: PyveRunner,
                                                         wheelhouse: Path, tmp_path: Path,
                                                         installer: str) -> None:
    """It resolves (its metadata reads), and its files cannot be extracted: the install
    fails after the dry run said yes."""
    house = tmp_path / "house"
    shutil.copytree(wheelhouse, house)
    wheel = build_wheel(house, "broken", "1.0")
    data = wheel.read_bytes()
    wheel.write_bytes(data.replace(b'__version__ = "1.0"', b'__VERSION__ = "1.0"'))  # bad CRC
    env = {"PIP_FIND_LINKS": str(house), "PYVE_INSTALLER": installer}
    (project / "requirements.txt").write_text("alpha\n")
    pyve("init", "--yes", env=env, check=True)
    lock = (project / "requirements.lock.txt").read_bytes()
    before = installed(project / ".venv")
    result = pyve("add", "beta", "broken", env=env)
    assert result.returncode == 1 and len(errors(result.stderr)) == 1
    assert "broken" in errors(result.stderr)[0]
    assert (project / "requirements.txt").read_text() == "alpha\n"
    assert (project / "requirements.lock.txt").read_bytes() == lock
    assert installed(project / ".venv") == before
    check = pyve("build", "--check", env=env)
    assert check.returncode == 0, check.output  # as it was: nothing to do


def test_removing_what_is_not_there(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("alpha\n")
    pyve("init", "--yes", check=True)
    result = pyve("remove", "gamma")
    assert result.returncode == 2
    assert errors(result.stderr) == [
        "error: gamma is not in requirements.txt (it has: alpha)"]
    assert (project / "requirements.txt").read_text() == "alpha\n"


def test_a_project_without_files_gets_requirements_txt(project: Path, pyve: PyveRunner) -> None:
    pyve("add", "alpha", "--yes", check=True)
    assert (project / "requirements.txt").read_text() == "alpha>=2.0\n"
    assert "alpha" in installed(project / ".venv") and locked(project) == {"alpha"}
    assert pyve("build", "--check").returncode == 0


def test_requirements_in_is_the_source(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.in").write_text("beta\n")
    (project / "requirements.txt").write_text(
        "alpha==2.0\n    # via beta\nbeta==1.0\n    # via -r requirements.in\n")
    pyve("init", "--yes", check=True)
    pyve("add", "gamma", check=True)
    assert (project / "requirements.in").read_text() == "beta\ngamma>=0.1\n"
    assert (project / "requirements.txt").read_text().endswith("gamma>=0.1\n")
    assert "gamma" in installed(project / ".venv")
    pyve("remove", "beta", check=True)
    assert (project / "requirements.in").read_text() == "gamma>=0.1\n"
    assert (project / "requirements.txt").read_text() == "alpha==2.0\n    # via beta\n" \
        "gamma>=0.1\n"


def test_pyproject_dependencies_and_group(project: Path, pyve: PyveRunner) -> None:
    reading_project(project, requires=("alpha",))
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text + "\n# tools\n[tool.x]\ny = 'z'\n")
    pyve("init", "--yes", check=True)
    pyve("add", "gamma", check=True)
    after = (project / "pyproject.toml").read_text()
    assert 'dependencies = ["alpha", "gamma>=0.1"]' in after
    assert after.replace(', "gamma>=0.1"', "") == text + "\n# tools\n[tool.x]\ny = 'z'\n"
    assert "gamma" in installed(project / ".venv")

    result = pyve("add", "--group", "test", "beta", check=True)
    assert "selected group 'test' in pyve.toml" in result.stdout
    assert (project / "pyproject.toml").read_text().endswith(
        "\n[dependency-groups]\ntest = [\"beta>=1.0\"]\n")
    assert 'groups = ["test"]' in (project / "pyve.toml").read_text()
    assert "beta" in installed(project / ".venv") and "beta" in locked(project)

    pyve("remove", "--group", "test", "beta", check=True)
    pyve("remove", "gamma", check=True)
    assert "gamma" not in installed(project / ".venv")
    assert 'dependencies = ["alpha"]' in (project / "pyproject.toml").read_text()


def test_pyproject_extra(project: Path, pyve: PyveRunner) -> None:
    reading_project(project, requires=())
    pyve("init", "--yes", check=True)
    pyve("add", "--extra", "dev", "gamma==0.1", check=True)
    text = (project / "pyproject.toml").read_text()
    assert '\n[project.optional-dependencies]\ndev = ["gamma==0.1"]\n' in text
    assert 'extras = ["dev"]' in (project / "pyve.toml").read_text()
    assert "gamma" in installed(project / ".venv")


def test_add_installed_records_hand_installed_packages(project: Path, pyve: PyveRunner,
                                                       sandbox_env: dict[str, str]) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--yes", check=True)
    subprocess.run([project / ".venv" / "bin" / "python", "-m", "pip", "install", "-q",
                    "gamma"], check=True, env=sandbox_env)
    result = pyve("add", "--installed", check=True)
    assert (project / "requirements.txt").read_text() == "beta\ngamma>=0.1\n"  # not alpha
    assert "gamma" in installed(project / ".venv") and "gamma" in locked(project)
    assert "removed" not in result.stdout
    assert "nothing was installed by hand" in pyve("add", "--installed", check=True).stdout


DYNAMIC_TABLES = {
    "setuptools": '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements/base.txt"]}\n'
                  'optional-dependencies.dev = {file = ["requirements/dev.txt"]}\n',
    "hatch": '[tool.hatch.metadata.hooks.requirements_txt]\nfiles = ["requirements/base.txt"]\n'
             '\n[tool.hatch.metadata.hooks.requirements_txt.optional-dependencies]\n'
             'dev = ["requirements/dev.txt"]\n',
}


@pytest.mark.parametrize("tool", sorted(DYNAMIC_TABLES))
def test_dynamic_dependencies_are_edited_in_the_file_the_build_backend_reads(
        project: Path, pyve: PyveRunner, tool: str) -> None:
    """[project] dependencies are dynamic, read from requirements/base.txt (and the dev
    extra from requirements/dev.txt): `pyve add` and `pyve remove` edit those files,
    pyproject.toml stays as it was."""
    write_tiny_project(project, requires=(), tool=DYNAMIC_TABLES[tool],
                       dynamic=(["requirements/base.txt"], {"dev": ["requirements/dev.txt"]}))
    (project / "requirements").mkdir()
    (project / "requirements" / "base.txt").write_text("# runtime\ngamma\n")
    (project / "requirements" / "dev.txt").write_text("alpha==1.0\n")
    pyproject = (project / "pyproject.toml").read_bytes()
    pyve("init", "--yes", check=True)
    result = pyve("add", "beta", check=True)
    assert "added beta>=1.0 to requirements/base.txt" in result.stdout
    assert (project / "requirements" / "base.txt").read_text() == "# runtime\ngamma\nbeta>=1.0\n"
    assert "beta" in installed(project / ".venv") and "beta" in locked(project)
    assert pyve("build", "--check").returncode == 0
    pyve("add", "--extra", "dev", "alpha==2.0", check=True)  # selects the extra, too
    assert (project / "requirements" / "dev.txt").read_text() == "alpha==2.0\n"
    assert py(project, "import alpha; print(alpha.__version__)").stdout.strip() == "2.0"
    pyve("remove", "gamma", check=True)
    assert (project / "requirements" / "base.txt").read_text() == "# runtime\nbeta>=1.0\n"
    assert "gamma" not in installed(project / ".venv") and "gamma" not in locked(project)
    assert (project / "pyproject.toml").read_bytes() == pyproject


def test_dynamic_dependencies_without_a_file_are_refused(project: Path, pyve: PyveRunner
                                                         ) -> None:
    """Dynamic dependencies that no requirements file pyve can edit fills (another build
    backend's plugin): one line, nothing changed."""
    write_tiny_project(project, requires=(), dynamic=([], {}))
    pyve("init", "--yes", check=True)
    pyproject = (project / "pyproject.toml").read_bytes()
    result = pyve("add", "beta")
    assert result.returncode == 2 and errors(result.stderr) == [
        "error: pyproject.toml: [project] dependencies are dynamic (the build backend makes "
        "them) and no requirements file is named for them ([tool.setuptools.dynamic] or "
        "hatch-requirements-txt): pyve cannot edit them"], result.output
    assert (project / "pyproject.toml").read_bytes() == pyproject
    assert not (project / "requirements.txt").exists()
    # a file the table names that is not there: said, and not made
    (project / "pyproject.toml").write_text(pyproject.decode() + DYNAMIC_TABLES["setuptools"])
    missing = pyve("add", "beta")
    assert missing.returncode == 2 and errors(missing.stderr) == [
        "error: pyproject.toml: [project] dependencies are dynamic, read from "
        "requirements/base.txt (pyproject.toml [tool.setuptools.dynamic] dependencies), "
        "which is not a file in the project: pyve cannot edit them"], missing.output
    assert not (project / "requirements").exists()


@pytest.mark.parametrize("deps", [("bar",)])
def test_conda_specs_and_pip_section(project: Path, pyve: PyveRunner, local_channel: Path,
                                     deps: tuple[str, ...], sandbox_env: dict[str, str]
                                     ) -> None:
    python_env(project, local_channel, pip=["beta"], deps=deps, extra="# the end\n")
    original = (project / "environment.yml").read_text()
    pyve("init", "--yes", check=True)
    result = pyve("add", "libfoo", check=True)
    assert "added libfoo>=2.0 to the dependencies of environment.yml" in result.stdout
    text = (project / "environment.yml").read_text()
    assert text == original.replace("  - pip\n", "  - pip\n  - libfoo>=2.0\n")
    assert pyve("build", "--check").returncode == 0

    pyve("add", "--pip", "gamma", check=True)
    assert (project / "environment.yml").read_text() == text.replace(
        "    - beta\n", "    - beta\n    - gamma>=0.1\n")
    assert "gamma" in installed(newest_env(project))
    assert "gamma" in (project / "conda-lock.yml").read_text()

    pyve("remove", "gamma", check=True)  # not a conda spec: found in the pip: section
    pyve("remove", "libfoo", check=True)
    assert (project / "environment.yml").read_text() == original
    assert "gamma" not in installed(newest_env(project))

    subprocess.run([newest_env(project) / "bin" / "python", "-m", "pip", "install", "-q",
                    "gamma"], check=True, env=sandbox_env)
    pyve("add", "--installed", check=True)
    assert (project / "environment.yml").read_text() == original.replace(
        "    - beta\n", "    - beta\n    - gamma>=0.1\n")
    pyve("remove", "gamma", check=True)

    absent = pyve("remove", "nothere")
    assert absent.returncode == 2 and errors(absent.stderr) == [
        "error: nothere is not in the dependencies of environment.yml (it has: bar, pip, "
        "python)"]

    lock = (project / "conda-lock.yml").read_bytes()
    result = pyve("add", "needs-missing")
    assert result.returncode != 0 and len(errors(result.stderr)) == 1
    assert "needs-missing" in errors(result.stderr)[0]
    assert (project / "environment.yml").read_text() == original
    assert (project / "conda-lock.yml").read_bytes() == lock
    assert pyve("build", "--check").returncode == 0
