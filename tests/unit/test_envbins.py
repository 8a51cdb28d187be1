"""pyve.envbins: an env's own bin on PATH, told apart from ordinary directories."""

from __future__ import annotations

import os
from pathlib import Path

from pyve.envbins import is_env_bin, without_env_bins


def test_env_bins(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    conda = tmp_path / "proj" / ".pyve" / "envs" / "abc123" / "bin"
    conda.mkdir(parents=True)
    other_conda = tmp_path / "miniconda" / "envs" / "work" / "bin"  # not pyve's: a real choice
    other_conda.mkdir(parents=True)
    assert is_env_bin(str(venv / "bin")) and is_env_bin(f"{venv / 'bin'}/")
    assert is_env_bin(str(conda))
    assert not is_env_bin(str(other_conda)) and not is_env_bin("/usr/bin")
    path = os.pathsep.join([str(venv / "bin"), "/usr/bin", "", str(conda), str(other_conda)])
    assert without_env_bins(path) == os.pathsep.join(["/usr/bin", str(other_conda)])
