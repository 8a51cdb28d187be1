"""The venv lock when packages come from an index rather than a wheel directory: the path
every online project takes. The index is a local file:// PEP 503 index (offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import stage_line
from tests.support.wheel_fixtures import build_simple_index, file_sha256


@pytest.fixture(scope="module")
def index_env(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    url = build_simple_index(wheelhouse, tmp_path_factory.mktemp("simple"))
    # the index on, no wheel directory: hashes cannot come from find-links
    return {"PIP_NO_INDEX": "false", "PIP_FIND_LINKS": "", "PIP_INDEX_URL": url,
            "PIP_CONFIG_FILE": os.devnull}


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_lock_hashes_come_from_the_index(installer: str, project: Path, pyve: PyveRunner,
                                         index_env: dict[str, str], wheelhouse: Path,
                                         sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """pip: from its install report; uv (no report, no pip in the env): from `uv pip compile
    --generate-hashes` over the exact pins. Either way pip --require-hashes accepts the lock."""
    if installer == "uv":
        from pyve.errors import PyveError
        from pyve.installers.uv import uv_bin

        try:
            uv_bin()
        except PyveError:
            pytest.skip("uv is not installed")
    (project / "requirements.txt").write_text("beta\n")
    env = {**index_env, "PYVE_INSTALLER": installer}
    result = pyve("init", "--auto-install-deps", env=env, check=True)
    assert " ran " in stage_line(result.stdout, "freeze")
    lock = (project / "requirements.lock.txt").read_text()
    for pin, wheel in (("alpha==2.0", "alpha-2.0-py3-none-any.whl"),
                       ("beta==1.0", "beta-1.0-py3-none-any.whl")):
        assert f"{pin} \\\n    --hash=sha256:{file_sha256(wheelhouse / wheel)}\n" in lock, lock
    target = tmp_path / "check"
    subprocess.run(["python3", "-m", "venv", "--without-pip", target], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python",
                    target / "bin" / "python", "install", "--require-hashes", "-r",
                    project / "requirements.lock.txt"],
                   check=True, env={**sandbox_env, **index_env}, capture_output=True)
