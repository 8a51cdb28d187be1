"""pythons.py: requests (3.11 = newest 3.11.x, 3.11.7 exactly, ranges), discovery, errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pyve import pythons
from pyve.errors import PyveError, UsageError
from pyve.project import Project
from pyve.pythons import Interpreter

FOUND = [Interpreter(v, f"/x/{v}/bin/python", "pyenv")
         for v in ("3.13.0", "3.12.1", "3.11.9", "3.11.7", "3.10.13")]


@pytest.mark.parametrize(("request_", "version"), [
    ("3.11", "3.11.9"), ("3.11.7", "3.11.7"), ("3", "3.13.0"), ("python3.12", "3.12.1"),
    ("cpython-3.10", "3.10.13"), (">=3.10,<3.12", "3.11.9"), ("~=3.12.0", "3.12.1"),
    (" 3.10.13 ", "3.10.13"),
])
def test_select(request_: str, version: str) -> None:
    assert pythons.select(request_, FOUND).version == version


def test_select_missing_lists_found_and_how_to_install() -> None:
    with pytest.raises(PyveError) as info:
        pythons.select("3.9", FOUND)
    assert info.value.message == ("Python 3.9 is not installed "
                                  "(found: 3.10.13, 3.11.7, 3.11.9, 3.12.1, 3.13.0)")
    assert "pyenv install 3.9" in (info.value.hint or "")


def test_select_missing_can_install() -> None:
    def install(request: str, missing: pythons.PythonNotFound) -> Interpreter:
        assert request == "3.9" and "3.10.13" in missing.versions
        return Interpreter("3.9.20", "/uv/cpython-3.9.20/bin/python3.9", "uv-managed")

    assert pythons.select("3.9", FOUND, install=install).source == "uv-managed"
    assert pythons.select("3.11", FOUND, install=install).version == "3.11.9"  # found: kept


@pytest.mark.parametrize(("env", "config", "allowed"), [
    ({}, {}, True), ({"PYVE_PYTHON_DOWNLOADS": "never"}, {}, False),
    ({"UV_PYTHON_DOWNLOADS": "never"}, {}, False), ({"UV_PYTHON_DOWNLOADS": "manual"}, {}, False),
    ({}, {"python_downloads": "never"}, False), ({}, {"python_downloads": "automatic"}, True),
    ({"UV_PYTHON_DOWNLOADS": "automatic"}, {"python_downloads": "never"}, False),
    ({"PYVE_OFFLINE": "1"}, {"python_downloads": "automatic"}, False),  # --offline: none
])
def test_downloads_allowed(env: dict[str, str], config: dict[str, str], allowed: bool,
                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PYVE_PYTHON_DOWNLOADS", "UV_PYTHON_DOWNLOADS", "PYVE_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert pythons.downloads_allowed(Project(tmp_path, config)) is allowed


def test_invalid_request() -> None:
    with pytest.raises(UsageError):
        pythons.parse_request("three")


def _fake_python(path: Path, version: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)


def test_discover_pyenv_asdf_path_and_skip_shims(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_python(tmp_path / "pyenv" / "versions" / "3.12.4" / "bin" / "python", "3.12.4")
    (tmp_path / "pyenv" / "versions" / "3.12-dev" / "bin").mkdir(parents=True)  # not X.Y.Z
    _fake_python(tmp_path / "asdf" / "installs" / "python" / "3.10.2" / "bin" / "python",
                 "3.10.2")
    _fake_python(tmp_path / "shims" / "python3.9", "3.9.99")  # a shim first on PATH ...
    _fake_python(tmp_path / "bin" / "python3.9", "3.9.1")  # ... must not hide this one
    _fake_python(tmp_path / "venv" / "bin" / "python3.9", "3.9.1")  # an activated venv
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    uv = tmp_path / "uv"  # uv's managed Pythons: X.Y.Z folders, not its minor links
    _fake_python(uv / "cpython-3.13.1-linux-x86_64-gnu" / "bin" / "python3.13", "3.13.1")
    (uv / "cpython-3.13-linux-x86_64-gnu").symlink_to(uv / "cpython-3.13.1-linux-x86_64-gnu")
    _fake_python(uv / "cpython-3.13.1+freethreaded-linux-x86_64-gnu" / "bin" / "python3.13",
                 "3.13.1")  # free-threaded builds are not what `3.13` asks for
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(uv))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("ASDF_DATA_DIR", str(tmp_path / "asdf"))
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / d) for d in ("venv/bin", "shims",
                                                                            "bin")]))
    found = {(i.version, i.source, i.path) for i in pythons.discover() if i.source != "running"}
    assert (("3.9.1", "PATH", str(tmp_path / "bin" / "python3.9")) in found
            and not any("venv" in path for *_, path in found))
    found = {(i.version, i.source) for i in pythons.discover()}
    running = "{}.{}.{}".format(*sys.version_info[:3])
    assert found == {("3.12.4", "pyenv"), ("3.10.2", "asdf"), ("3.9.1", "PATH"),
                     ("3.13.1", "uv-managed"), (running, "running")}
    versions = [i.version for i in pythons.discover()]
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))),
                              reverse=True)


def test_running_is_the_base_interpreter() -> None:
    interp = pythons.running()
    assert interp.version == "{}.{}.{}".format(*sys.version_info[:3])
    assert Path(interp.path).exists()
    assert not Path(interp.path).is_relative_to(sys.prefix) or sys.prefix == sys.base_prefix
