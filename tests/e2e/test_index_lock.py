"""The venv lock when packages come from an index rather than a wheel directory: the path
every online project takes. The index is a local file:// PEP 503 index (offline)."""

from __future__ import annotations

import os
import shutil
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


def test_a_partial_mirror_does_not_cut_the_locks_hashes(
        project: Path, pyve: PyveRunner, wheelhouse: Path, sandbox_env: dict[str, str],
        tmp_path: Path) -> None:
    """The extra index mirrors only native's cp311 wheel; the primary has cp311 and cp312.
    uv hashes the mirror's file alone: the lock must carry every index's files of the
    version, so it installs into 3.12 too."""
    from tests.conftest import REAL_PYENV_ROOT
    from tests.support.wheel_fixtures import build_wheel

    found = sorted((Path(REAL_PYENV_ROOT) / "versions").glob("3.12.*/bin/python"))
    if not found:
        pytest.skip("no python 3.12 under ~/.pyenv/versions")
    py312 = found[-1]
    full, part = tmp_path / "full", tmp_path / "part"
    full.mkdir()
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy2(wheel, full)
    cp311 = build_wheel(full, "native", "1.0", tag="cp311-none-any")
    cp312 = build_wheel(full, "native", "1.0", tag="cp312-none-any")
    part.mkdir()
    shutil.copy2(cp311, part)
    env = {"PIP_NO_INDEX": "false", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull,
           "PIP_INDEX_URL": build_simple_index(full, tmp_path / "idx-full"),
           "PIP_EXTRA_INDEX_URL": build_simple_index(part, tmp_path / "idx-part")}
    (project / "requirements.txt").write_text("native\n")
    pyve("init", "3.11", "--auto-install-deps", env=env, check=True)
    lock = (project / "requirements.lock.txt").read_text()
    hashes = sorted(file_sha256(w) for w in (cp311, cp312))
    assert ("native==1.0 \\\n" + "".join(f"    --hash=sha256:{h} \\\n" for h in hashes)
            ).rstrip(" \\\n") + "\n" in lock, lock
    target = tmp_path / "py312"
    subprocess.run([py312, "-m", "venv", target], check=True, capture_output=True)
    installed = subprocess.run([target / "bin" / "python", "-m", "pip", "install",
                                "--require-hashes", "-r", project / "requirements.lock.txt"],
                               env={**sandbox_env, **env}, capture_output=True, text=True,
                               check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
