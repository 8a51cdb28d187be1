"""The sdist and wheel `python -m build` makes: pyve's code and nothing of the repo's
tests or bench, a `pyve` command, and a wheel that installs and answers `pyve --version`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from pyve import __version__

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, src],
                   check=True, capture_output=True, text=True)
    return out


def test_the_distribution_name_is_not_pypis_other_pyve() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'name = "pyve-env"' in text and 'pyve = "pyve.cli:main"' in text


def test_wheel_holds_the_package_only(dist: Path) -> None:
    (wheel,) = dist.glob("pyve_env-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"pyve", f"pyve_env-{__version__}.dist-info"}
    assert "pyve/cli.py" in names and "pyve/backends/venv/backend.py" in names
    entry = zipfile.ZipFile(wheel).read(f"pyve_env-{__version__}.dist-info/entry_points.txt")
    assert b"pyve = pyve.cli:main" in entry


def test_sdist_has_no_tests_or_bench(dist: Path) -> None:
    (sdist,) = dist.glob("pyve_env-*.tar.gz")
    tops = {name.split("/")[1] for name in tarfile.open(sdist).getnames() if "/" in name}
    assert "src" in tops and not {"tests", "bench", "docs", ".ci"} & tops


def test_the_wheel_installs_and_runs(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("pyve_env-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", target, wheel], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", "import pyve.cli, sys; print(pyve.cli.__file__);"
                          "sys.exit(pyve.cli.main(['--version']))"],
                         env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith(str(target))
    assert f"pyve {__version__}" in out.stdout
