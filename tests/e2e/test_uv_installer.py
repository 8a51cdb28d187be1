"""The uv installer: chosen once at init, it sticks; pip's settings reach uv as pip reads them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import py


@pytest.fixture(autouse=True)
def needs_uv() -> None:
    from pyve.installers.pip import find_uv

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
