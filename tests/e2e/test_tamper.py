"""Installing from a lock checks every package's sha256: a wheel changed after locking is
refused with a message naming it, and pyve's files are not writable by others."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, write_envfile
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
    # pip's words through pyve, or uv's own ("Hash mismatch for `beta==1.0`")
    assert len(error) == 1 and "hash mismatch for beta==1.0" in error[0].lower().replace(
        "`", ""), result.output


def _same_size_edit(path: Path) -> None:
    """Change a file's bytes, keep its size, write through it (a hardlink stays one)."""
    data = path.read_bytes()
    with path.open("r+b") as handle:
        handle.write(bytes(b ^ 0x20 for b in data[:4]))
    assert path.stat().st_size == len(data) and path.read_bytes() != data


@linux_only
def test_a_file_changed_in_the_package_cache_never_reaches_an_env(
        tmp_path: Path, project: Path, pyve: PyveRunner, local_channel: Path,
        sandbox_env: dict[str, str]) -> None:
    """The package cache's files are hardlinked into every env: one edited there (same size)
    is found by checking the package against its paths.json, extracted again, and neither a
    new env nor `build --force` links the edited bytes."""
    write_envfile(project, local_channel, ["bar"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    original = (only_env(project) / "share" / "bar" / "0.4.txt").read_bytes()
    cached = Path(sandbox_env["XDG_CACHE_HOME"]) / "pyve" / "pkgs" / "bar-0.4-0" / "share" / \
        "bar" / "0.4.txt"
    _same_size_edit(cached)  # the env shares the inode: it changed too

    other = tmp_path / "other"
    other.mkdir()
    write_envfile(other, local_channel, ["bar"], platforms=["linux-64"])
    pyve("init", "--yes", cwd=other, check=True)
    assert (only_env(other) / "share" / "bar" / "0.4.txt").read_bytes() == original

    result = pyve("build", "--force")
    assert result.returncode == 0, result.output
    assert "linking again bar" in result.output, result.output
    assert (only_env(project) / "share" / "bar" / "0.4.txt").read_bytes() == original
    assert pyve("doctor", "--deep").returncode == 0
