"""The lock is the plan: the venv build resolves the universal hashed lock once, installs the
env from its pins (hash-checked, no second resolve), keeps the previous lock's pins on a
change and installs only the difference; pip installs the same locked pins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.wheel_fixtures import build_wheel


def commands(output: str) -> list[str]:
    """The installer commands `pyve -v` echoed (`$ uv pip install ...`)."""
    return [line for line in output.splitlines() if line.startswith("$ ")]


@pytest.fixture()
def house(wheelhouse: Path, tmp_path: Path) -> Path:
    where = tmp_path / "house"
    where.mkdir()
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy2(wheel, where)
    build_wheel(where, "modern", "1.0")
    return where


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_resolved_once_then_installed_from_the_lock(project: Path, pyve: PyveRunner,
                                                    house: Path, installer: str) -> None:
    env = {"PIP_FIND_LINKS": str(house), "PYVE_INSTALLER": installer}
    (project / "requirements.txt").write_text("beta\nmodern\n")
    first = pyve("-v", "init", "3.11", "--auto-install-deps", env=env, check=True)
    ran = commands(first.output)
    compiles = [c for c in ran if " pip compile " in c and "pylock.toml" not in c]
    assert len(compiles) == 1, ran  # one resolve: the lock (pylock.toml is its copy)
    installs = [c for c in ran if " install " in c and "requirements.txt" in c]
    assert not installs, installs  # the sources are never resolved by the installer
    locked = [c for c in ran if "--require-hashes" in c and "--no-deps" in c]
    assert len(locked) == 1, ran
    lock = (project / "requirements.lock.txt").read_text()
    assert "beta==1.0 \\\n" in lock and "alpha==2.0 \\\n" in lock and "modern==1.0" in lock
    assert pyve("build", "--frozen", env=env).returncode == 0  # the env is the lock

    # a newer modern appears; a line added keeps the lock's pins and installs only gamma
    build_wheel(house, "modern", "2.0")
    (project / "requirements.txt").write_text("beta\nmodern\ngamma\n")
    second = pyve("-v", "build", env=env, check=True)
    lock = (project / "requirements.lock.txt").read_text()
    assert "modern==1.0" in lock and "gamma==0.1 \\\n" in lock, lock
    locked = [c for c in commands(second.output) if "--require-hashes" in c]
    assert len(locked) == 1, second.output
    if installer == "uv":
        assert "Installed 1 package" in second.output and "+ gamma==0.1" in second.output
    else:
        assert "Successfully installed gamma-0.1" in second.output, second.output
    assert "freeze" in second.output
    assert pyve("build", "--frozen", env=env).returncode == 0

    # a line taken out: the lock no longer needs it, so it goes (no METADATA walk needed)
    (project / "requirements.txt").write_text("modern\ngamma\n")
    third = pyve("build", env=env, check=True)
    assert "removed alpha, beta: no longer required" in third.output, third.output
    assert "beta" not in (project / "requirements.lock.txt").read_text()
    assert pyve("build", "--frozen", env=env).returncode == 0


def test_a_package_installed_by_hand_stays_with_the_lock_first_build(
        project: Path, pyve: PyveRunner, house: Path) -> None:
    """lock-first is not `uv pip sync`: what the user installed by hand stays, named once."""
    env = {"PIP_FIND_LINKS": str(house), "PYVE_INSTALLER": "uv"}
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "3.11", "--auto-install-deps", env=env, check=True)
    pyve("run", "pip", "install", "--no-index", "modern==1.0", env=env, check=True)
    (project / "requirements.txt").write_text("gamma\nalpha\n")
    built = pyve("build", env=env, check=True)
    assert "kept modern 1.0: installed by hand" in built.output, built.output
    assert (project / ".venv/lib/python3.11/site-packages/modern").is_dir()
    exact = pyve("build", "--exact", env=env, check=True)
    assert "removed modern 1.0" in exact.output, exact.output
