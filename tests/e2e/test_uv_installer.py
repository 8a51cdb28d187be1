"""The uv installer: chosen once at init, it sticks; pip's settings reach uv as pip reads them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import py, stage_line
from tests.support.wheel_fixtures import build_simple_index


@pytest.fixture(autouse=True)
def needs_uv() -> None:
    from pyve.installers.uv import find_uv

    if find_uv() is None:
        pytest.skip("uv is not installed")


def test_pyve_installer_at_init_is_recorded(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "uv"}, check=True)
    assert 'installer = "uv"' in (project / "pyve.toml").read_text()
    # without the variable, the next build keeps uv: nothing to do
    assert "Nothing to do" in pyve("build", check=True).stdout


def test_several_find_links_folders_reach_uv(project: Path, pyve: PyveRunner,
                                            wheelhouse: Path, tmp_path: Path) -> None:
    """pip splits PIP_FIND_LINKS on whitespace; uv must get each folder, not one path."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy2(wheel, first if wheel.name.startswith("alpha") else second)
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("init", "--auto-install-deps",
                  env={"PYVE_INSTALLER": "uv", "PIP_FIND_LINKS": f"{first} {second}"})
    assert result.returncode == 0, result.output
    assert py(project, "import alpha, beta").returncode == 0


@pytest.fixture
def pip_conf_text(wheelhouse: Path, tmp_path: Path) -> str:
    """A pip.conf naming a local PEP 503 index (alpha, beta) and a find-links folder (gamma):
    what a company's private index and wheel share look like, offline."""
    index = build_simple_index(
        _only(wheelhouse, tmp_path / "for-index", ("alpha", "beta")), tmp_path / "simple")
    folder = _only(wheelhouse, tmp_path / "links", ("gamma",))
    return f"[global]\nindex-url = {index}\n[install]\nfind-links =\n    {folder}\n"


def _only(house: Path, dest: Path, names: tuple[str, ...]) -> Path:
    dest.mkdir()
    for wheel in house.glob("*.whl"):
        if wheel.name.startswith(names):
            shutil.copy2(wheel, dest)
    return dest


# no PIP_* settings of the sandbox, and the network unreachable: only pip.conf can say where
# the packages are
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


@pytest.mark.parametrize("where", ["PIP_CONFIG_FILE", "user config"])
def test_uv_installs_from_the_index_pip_conf_names(where: str, project: Path, pyve: PyveRunner,
                                                   sandbox_env: dict[str, str],
                                                   pip_conf_text: str, tmp_path: Path) -> None:
    for key in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
        sandbox_env.pop(key, None)
    if where == "PIP_CONFIG_FILE":
        conf = tmp_path / "company-pip.conf"
        sandbox_env["PIP_CONFIG_FILE"] = str(conf)
    else:  # pip's user file, under the sandboxed XDG_CONFIG_HOME
        sandbox_env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
        conf = tmp_path / "home" / ".config" / "pip" / "pip.conf"
        conf.parent.mkdir(parents=True)
    conf.write_text(pip_conf_text)
    (project / "requirements.txt").write_text("beta\ngamma\n")
    result = pyve("init", "--auto-install-deps", env={**OFFLINE, "PYVE_INSTALLER": "uv"})
    assert result.returncode == 0, result.output
    assert py(project, "import alpha, beta, gamma").returncode == 0
    assert "note:" not in result.output  # every setting in that file is one uv honours
    assert "gamma==0.1" in (project / "requirements.lock.txt").read_text()


def test_a_setting_uv_cannot_honour_is_named(project: Path, pyve: PyveRunner,
                                             sandbox_env: dict[str, str],
                                             tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[install]\nno-binary = :all:\n")
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("init", "--auto-install-deps",
                  env={"PYVE_INSTALLER": "uv", "PIP_CONFIG_FILE": str(conf)}, check=True)
    notes = [line for line in result.stdout.splitlines() if "note:" in line]
    assert len(notes) == 1, result.stdout
    assert "`no-binary`" in notes[0] and str(conf) in notes[0]
    assert 'installer = "pip"' in notes[0]


def test_uv_is_the_default_and_init_records_it(project: Path, pyve: PyveRunner,
                                               wheelhouse: Path) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    assert 'installer = "uv"' in (project / "pyve.toml").read_text()
    assert json.loads((project / ".pyve" / "decision.json").read_text())["installer"] == "uv"
    # pip is inside the env: `pyve run pip install x` installs there, not elsewhere
    where = pyve("run", "pip", "--version", check=True).stdout
    assert str(project / ".venv") in where, where
    pyve("run", "pip", "install", "-q", "--no-index", "--find-links", str(wheelhouse),
         "gamma", check=True)
    assert py(project, "import gamma").returncode == 0
    again = pyve("build", check=True)
    assert "kept gamma 0.1: installed by hand" in again.stdout, again.stdout
    assert py(project, "import gamma").returncode == 0


def test_a_project_without_an_installer_moves_to_uv_once(project: Path,
                                                          pyve: PyveRunner) -> None:
    """A project set up when pip was the default (no `installer` in pyve.toml): the next
    build re-runs the install and the lock with uv, saying why, and keeps the env."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "pip"}, check=True)
    toml = project / "pyve.toml"
    assert 'installer = "pip"' in toml.read_text()
    toml.write_text("".join(line for line in toml.read_text().splitlines(keepends=True)
                            if not line.startswith("installer")))
    lock = (project / "requirements.lock.txt").read_bytes()
    marker = (project / ".venv" / ".pyve-env.json").read_bytes()
    result = pyve("build", check=True)
    assert "installer pip -> uv" in stage_line(result.stdout, "pip-deps"), result.stdout
    assert "up to date" in stage_line(result.stdout, "create-env")
    assert (project / ".venv" / ".pyve-env.json").read_bytes() == marker  # the same env
    assert (project / "requirements.lock.txt").read_bytes() == lock
    assert "Nothing to do" in pyve("build", check=True).stdout
    # and back: PYVE_INSTALLER=pip is a change too, never a false "up to date"
    back = pyve("build", env={"PYVE_INSTALLER": "pip"}, check=True)
    assert "installer uv -> pip" in stage_line(back.stdout, "pip-deps"), back.stdout


def test_the_pip_installer_still_does_it_all(project: Path, pyve: PyveRunner) -> None:
    """installer = "pip": python -m venv, pip install, prune, lock, --frozen, no-op."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "pip"}, check=True)
    assert 'installer = "pip"' in (project / "pyve.toml").read_text()
    assert "Nothing to do" in pyve("build", check=True).stdout
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("build", check=True)
    assert "removed alpha, beta: no longer required" in result.stdout
    assert "gamma==0.1" in (project / "requirements.lock.txt").read_text()
    info = project / ".venv" / "lib"
    installers = {p.parent.name.split("-")[0]: p.read_text().strip()
                  for p in info.glob("python*/site-packages/*.dist-info/INSTALLER")}
    assert installers.get("gamma") == "pip", installers
    frozen = pyve("build", "--frozen", check=True)
    assert "Nothing to do" in frozen.stdout, frozen.stdout


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_several_indexes_pick_what_pip_picks(installer: str, project: Path, pyve: PyveRunner,
                                             sandbox_env: dict[str, str], wheelhouse: Path,
                                             tmp_path: Path) -> None:
    """An extra index (a mirror) with an older alpha: pip takes the newest from any index,
    and so must uv, or uv installs another version and cannot lock the env pip built."""
    main = build_simple_index(wheelhouse, tmp_path / "main")
    old = _only(wheelhouse, tmp_path / "old", ("alpha-1.0",))
    mirror = build_simple_index(old, tmp_path / "mirror")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {main}\nextra-index-url = {mirror}\n")
    for key in ("PIP_NO_INDEX", "PIP_FIND_LINKS"):
        sandbox_env.pop(key)
    (project / "requirements.txt").write_text("alpha\n")
    pyve("init", "--auto-install-deps", check=True,
         env={**OFFLINE, "PIP_CONFIG_FILE": str(conf), "PYVE_INSTALLER": installer})
    assert py(project, "import alpha; assert alpha.__version__ == '2.0'").returncode == 0
    assert "alpha==2.0" in (project / "requirements.lock.txt").read_text()
