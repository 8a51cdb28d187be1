"""Installing from a lock checks every package's sha256: a wheel changed after locking is
refused with a message naming it, and pyve's files are not writable by others."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

from tests.conftest import PyveRunner
from tests.support.faults import setup


def test_frozen_build_refuses_a_tampered_wheel(project: Path, pyve: PyveRunner,
                                               wheelhouse: Path, tmp_path: Path) -> None:
    house = tmp_path / "house"
    shutil.copytree(wheelhouse, house)
    env = {"PIP_FIND_LINKS": str(house)}
    setup(project, "venv")
    assert pyve("build", env=env).returncode == 0
    for path in [project / ".pyve" / "state.json", project / ".pyve" / "decision.json",
                 project / "requirements.lock.txt", project / "pyve.toml"]:
        assert not path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH), path
    (wheel,) = house.glob("beta-*.whl")
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("beta/evil.py", "print('owned')\n")
    result = pyve("build", "--frozen", "--force", env=env)
    assert result.returncode == 1 and "Traceback" not in result.output, result.output
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(error) == 1 and "hash mismatch for beta==1.0" in error[0], result.output
