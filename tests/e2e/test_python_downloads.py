"""A requested Python no interpreter found satisfies: the venv backend has uv install a managed
CPython (into uv's own folder), unless python_downloads / PYVE_PYTHON_DOWNLOADS /
UV_PYTHON_DOWNLOADS say never. Offline: the "download" is a python-build-standalone-shaped
archive of pyenv's 3.10 (hidden from pyve's discovery), named by a downloads JSON."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, built_once
from tests.support.helpers import pyenv_python
from tests.support.standalone import build_archive, downloads_json

VERSION = "3.10.13"  # a pyenv version; the sandbox's PYENV_ROOT below hides it
INSTALLED = "python 3.10.13 (installed by uv: not found on this machine)"
pytestmark = pytest.mark.skipif(
    pyenv_python(VERSION) is None or sys.version_info[:2] == (3, 10)
    or not sys.platform.startswith("linux"),
    reason=f"needs pyenv's {VERSION} (linux), and pyve not running on 3.10 itself")


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = pyenv_python(VERSION)
    assert prefix is not None
    found = built_once(tmp_path_factory, "standalone", lambda where: build_archive(
        prefix.parent.parent, VERSION, where).parent)
    return next(found.glob("cpython-*.tar.gz"))


@pytest.fixture
def downloads(tmp_path: Path, archive: Path) -> dict[str, str]:
    """The environment in which 3.10 is not found but uv can install it from the archive."""
    (tmp_path / "no-pyenv").mkdir()
    return {"PYVE_PYTHON_DOWNLOADS": "", "PYENV_ROOT": str(tmp_path / "no-pyenv"),
            "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-python"),
            "UV_PYTHON_DOWNLOADS_JSON_URL": str(downloads_json(archive, VERSION, tmp_path))}


def installed(env: dict[str, str]) -> list[str]:
    folder = Path(env["UV_PYTHON_INSTALL_DIR"])
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.is_dir() else []


def test_missing_python_is_installed_by_uv_and_used(project: Path, pyve: PyveRunner,
                                                    downloads: dict[str, str],
                                                    tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("alpha\n")
    result = pyve("init", "3.10", "--backend", "venv", env=downloads)
    assert result.returncode == 0, result.output
    assert INSTALLED in result.stdout
    assert "python 3.10.13 (asked for 3.10)" in result.stdout
    version = subprocess.run([project / ".venv" / "bin" / "python", "-c",
                              "import sys, alpha; print('%d.%d.%d' % sys.version_info[:3])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == VERSION
    uv_dir = Path(downloads["UV_PYTHON_INSTALL_DIR"])
    assert f"cpython-{VERSION}-linux-x86_64-gnu" in installed(downloads)
    # bound to the exact patch release, not uv's minor-version link a `uv python upgrade` moves
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    assert f"home = {uv_dir}/cpython-{VERSION}-linux-x86_64-gnu/bin" in cfg
    assert 'python = "3.10"' in (project / "pyve.toml").read_text()
    assert not list(project.rglob("install_only*")) and not (project / "python").exists()
    status = pyve("status", env=downloads)
    assert f"python:  {VERSION}" in status.stdout and "[uv-managed]" in status.stdout
    assert "create-env  up to date" in status.stdout, status.stdout
    doctor = pyve("doctor", env=downloads)
    assert f"python {VERSION} from uv-managed" in doctor.stdout, doctor.output

    # a patch upgrade in uv's folder (`uv python upgrade` adds cpython-3.10.14-...): seen as
    # any interpreter change (the folder is a copy: status only reads uv's folder names)
    shutil.copytree(uv_dir / f"cpython-{VERSION}-linux-x86_64-gnu",
                    uv_dir / "cpython-3.10.14-linux-x86_64-gnu", symlinks=True)
    status = pyve("status", env=downloads)
    assert "create-env  stale  (python 3.10.13 -> 3.10.14;" in status.stdout, status.stdout
    shutil.rmtree(uv_dir / "cpython-3.10.14-linux-x86_64-gnu")

    # a second project: the installed one is found; no second download (none is possible:
    # the archive's address now leads nowhere)
    gone = {**downloads, "UV_PYTHON_DOWNLOADS_JSON_URL": str(tmp_path / "no-such.json")}
    second = tmp_path / "second"
    second.mkdir()
    again = pyve("init", "3.10", "--backend", "venv", env=gone, cwd=second)
    assert again.returncode == 0, again.output
    assert INSTALLED not in again.stdout
    assert "python 3.10.13 (asked for 3.10)" in again.stdout
    assert installed(gone) == installed(downloads)


@pytest.mark.parametrize("never", [
    {"PYVE_PYTHON_DOWNLOADS": "never"}, {"UV_PYTHON_DOWNLOADS": "never"}, "pyve.toml"])
def test_never_keeps_the_error(project: Path, pyve: PyveRunner, downloads: dict[str, str],
                               never: dict[str, str] | str) -> None:
    (project / "requirements.txt").write_text("alpha\n")
    if never == "pyve.toml":
        (project / "pyve.toml").write_text('backend = "venv"\npython_downloads = "never"\n')
    env = {**downloads, **(never if isinstance(never, dict) else {})}
    before = sorted(p.name for p in project.iterdir())
    result = pyve("build", "--python", "3.10", env=env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: Python 3.10 is not installed "
                                                     "(found: "), result.output
    assert "uv could not install" not in result.stderr
    assert installed(env) == [] and sorted(p.name for p in project.iterdir()) == before


@pytest.mark.parametrize(("fault", "said"), [
    ("checksum", "hash mismatch for `cpython-3.10.13-linux-x86_64-gnu`: expected 0000"),
    ("refused", "failed to install cpython-3.10.13-linux-x86_64-gnu: connection refused")])
def test_failed_download_is_one_line(project: Path, pyve: PyveRunner,
                                     downloads: dict[str, str], archive: Path,
                                     tmp_path: Path, fault: str, said: str) -> None:
    (project / "requirements.txt").write_text("alpha\n")
    if fault == "checksum":
        listing = downloads_json(archive, VERSION, tmp_path, digest="0" * 64)
    else:  # a mirror refusing: loopback port 9 (discard) refuses at once
        listing = downloads_json(archive, VERSION, tmp_path)
        listing.write_text(listing.read_text().replace(archive.as_uri(),
                                                       "http://127.0.0.1:9/python.tar.gz"))
    bad = {**downloads, "UV_PYTHON_DOWNLOADS_JSON_URL": str(listing), "UV_HTTP_RETRIES": "0"}
    result = pyve("init", "3.10", "--backend", "venv", env=bad)
    assert result.returncode == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("error: Python 3.10 is not installed (found: ")
    assert "and uv could not install it: " in errors[0] and said in errors[0].lower(), errors
    assert not any(name.startswith("cpython-3.10") for name in installed(bad))
    assert sorted(p.name for p in project.iterdir()) == ["requirements.txt"]


def test_bad_python_downloads_setting(project: Path, pyve: PyveRunner) -> None:
    (project / "pyve.toml").write_text('backend = "venv"\npython_downloads = "sometimes"\n')
    result = pyve("build")
    assert result.returncode == 2
    assert 'error: pyve.toml: python_downloads must be "automatic" or "never", not ' \
           "'sometimes'" in result.stderr


@pytest.mark.parametrize("command", ["status", "doctor", "purge"])
def test_commands_that_only_look_never_download(project: Path, pyve: PyveRunner,
                                                downloads: dict[str, str], command: str) -> None:
    (project / "pyve.toml").write_text('backend = "venv"\npython = "3.10"\n')
    result = pyve(command, env=downloads)
    if command != "purge":  # purge of nothing needs no interpreter
        assert "Python 3.10 is not installed (found: " in result.output, result.output
    assert INSTALLED not in result.output and installed(downloads) == []
