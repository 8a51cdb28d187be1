"""PYVE_CONDA_ENGINE=micromamba: pyve decides the packages, an installed micromamba links
them from an @EXPLICIT file; without the binary, a clear error and nothing built."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from tests.conftest import PyveRunner, linux_only

pytestmark = linux_only


def write_project(project: Path, channel: Path) -> None:
    (project / "environment.yml").write_text(
        f"name: demo\nchannels:\n  - {channel}\ndependencies:\n  - bar\n"
        "platforms:\n  - linux-64\n")


def fake_micromamba(bin_dir: Path, log: Path) -> None:
    """Records its arguments and the explicit file, then makes the prefix as micromamba would
    (conda-meta/), so the build can finish."""
    bin_dir.mkdir()
    script = bin_dir / "micromamba"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        'while [ $# -gt 0 ]; do\n'
        '  case "$1" in --prefix) p="$2";; --file) f="$2";; esac; shift\n'
        'done\n'
        f'cat "$f" >> "{log}"\n'
        'mkdir -p "$p/conda-meta"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_micromamba_engine_installs_the_decided_packages(
        project: Path, pyve: PyveRunner, local_channel: Path, tmp_path: Path) -> None:
    write_project(project, local_channel)
    log = tmp_path / "micromamba.log"
    fake_micromamba(tmp_path / "bin", log)
    env = {"PYVE_CONDA_ENGINE": "micromamba",
           "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = pyve("build", "--yes", env=env)
    assert result.returncode == 0, result.output
    text = log.read_text()
    assert "create --yes --quiet --prefix" in text and "@EXPLICIT" in text
    assert "/noarch/bar-0.4-0.tar.bz2#" in text  # the solved set, with md5s to check
    assert "libfoo-2.0" in text


def test_micromamba_engine_without_binary_is_one_clear_error(
        project: Path, pyve: PyveRunner, local_channel: Path, tmp_path: Path) -> None:
    write_project(project, local_channel)
    empty = tmp_path / "empty"
    empty.mkdir()
    python_dir = str(Path(sys.executable).parent)
    result = pyve("build", "--yes", env={"PYVE_CONDA_ENGINE": "micromamba",
                                         "PATH": f"{empty}{os.pathsep}{python_dir}"})
    assert result.returncode == 1
    assert "no micromamba binary was found" in result.stderr
    assert "Traceback" not in result.output
    assert not list((project / ".pyve" / "envs").glob("*/conda-meta"))


def test_invalid_engine_is_a_usage_error(project: Path, pyve: PyveRunner,
                                          local_channel: Path) -> None:
    write_project(project, local_channel)
    result = pyve("build", "--yes", env={"PYVE_CONDA_ENGINE": "mamba2"})
    assert result.returncode == 2
    assert "invalid conda engine 'mamba2'" in result.stderr
