"""A failing install says why (pip's conflict block, uv's causes), with a hint that fits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.wheel_fixtures import build_wheel


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_conflict_shows_its_cause_and_no_index_hint(installer: str, project: Path,
                                                      pyve: PyveRunner, wheelhouse: Path,
                                                      tmp_path: Path) -> None:
    if installer == "uv":
        from pyve.installers.uv import find_uv

        if find_uv() is None:
            pytest.skip("uv is not installed")
    house = tmp_path / "house"
    shutil.copytree(wheelhouse, house)
    build_wheel(house, "zed", "1.0", ("alpha>=2",))
    (project / "requirements.txt").write_text("alpha==1.0\nzed\n")
    result = pyve("init", "--auto-install-deps",
                  env={"PIP_FIND_LINKS": str(house), "PYVE_INSTALLER": installer})
    assert result.returncode == 1
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    hint = [ln for ln in result.stderr.splitlines() if ln.strip().startswith("hint:")]
    assert len(error) == 1 and "alpha>=2" in error[0] and "alpha==1.0" in error[0], \
        result.stderr
    assert len(hint) == 1 and "index" not in hint[0] and "-v" in hint[0], result.stderr


def _hint(stderr: str) -> str:
    hints = [ln for ln in stderr.splitlines() if ln.strip().startswith("hint:")]
    assert len(hints) == 1, stderr
    return hints[0]


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_hash_mismatch_in_the_projects_own_file_names_it(installer: str, project: Path,
                                                           pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text(f"alpha==1.0 --hash=sha256:{'0' * 64}\n")
    result = pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": installer})
    assert result.returncode == 1
    hint = _hint(result.stderr)
    assert "--hash in requirements.txt" in hint and "re-lock" not in hint, result.stderr

