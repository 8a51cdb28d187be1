"""Shared fixtures: an offline wheelhouse (built once per run), a sandboxed environment
(HOME, caches, no PYVE_*/CI/VIRTUAL_ENV), and a helper that runs the real `pyve` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import conda_fixtures
from tests.support.registry import oci_registry, oci_registry_with_auth  # noqa: F401 - fixtures
from tests.support.remote_stores import moto_server, remote_store  # noqa: F401 - fixtures
from tests.support.wheel_fixtures import build_wheelhouse

REAL_PYENV_ROOT = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
# The local channel's `python` is the host interpreter as a linux-64 package.
LINUX_64 = sys.platform.startswith("linux") and os.uname().machine == "x86_64"
linux_only = pytest.mark.skipif(not LINUX_64, reason="the local channel's python is linux-64 only")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test uses, defined once: `conda` (and linux-64 only) for a test
    that uses the local conda channel, `slow` for one that runs the real `pyve` command (the
    `pyve` fixture, or any test under tests/e2e/), so `-m "not slow"` is the quick loop."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "local_channel" in names:
            item.add_marker(pytest.mark.conda)
            item.add_marker(linux_only)
        if "pyve" in names or "local_channel" in names or "e2e" in item.path.parts:
            item.add_marker(pytest.mark.slow)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], Path]) -> Path:
    """`build(dir)` run once per test run, even with pytest-xdist's workers (`-n 2`): the
    first worker builds under a file lock in the run's shared temp folder, the others wait
    and read what it built. Without xdist: a plain session folder."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent / name  # one per run, beside gw0, gw1
    done = shared.parent / f"{name}.done"
    with FileLock(str(shared) + ".lock"):
        if not done.exists():
            if shared.exists():  # a worker died half-way: start again
                shutil.rmtree(shared)
            shared.mkdir()
            done.write_text(str(build(shared)))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_once(tmp_path_factory, "wheelhouse", build_wheelhouse)


def _build_local_channel(where: Path) -> Path:
    channel = conda_fixtures.build_channel(where / "chan")
    if sys.platform.startswith("linux"):
        conda_fixtures.add_host_python(channel)
    return channel


@pytest.fixture(scope="session")
def local_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic multi-platform conda channel with the host python and pip (built once)."""
    return built_once(tmp_path_factory, "channel", _build_local_channel)


# Dropped from the environment the `pyve` subprocesses see. PYTHONDONTWRITEBYTECODE too: a
# user's shell rarely sets it, and with it every pip run in a test's fresh venv compiled pip
# again (about a second each; a third of a venv test's CPU).
SANDBOX_DROPS = ("CI", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")


@pytest.fixture
def sandbox_env(tmp_path: Path, wheelhouse: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYVE_", "PIP_", "UV_")) and k not in SANDBOX_DROPS}
    env.update({
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PIP_CACHE_DIR": str(home / ".cache" / "pip"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # no pip.conf of the machine's (pip and, through pyve, uv would both read it)
        "PIP_CONFIG_FILE": os.devnull,
        "PYENV_ROOT": REAL_PYENV_ROOT,  # interpreters are the machine's; HOME is not
        # tests are offline: a missing Python is an error, not a download from GitHub
        # (test_python_downloads.py turns it on, with a local archive)
        "PYVE_PYTHON_DOWNLOADS": "never",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    })
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


PyveRunner = Callable[..., Result]


@pytest.fixture
def pyve(project: Path, sandbox_env: dict[str, str]) -> PyveRunner:
    """Run `python -m pyve ARGS` in the project: pyve("build", input="y\\n", env={"CI": "1"})."""

    def run(*args: str, input: str | None = "", env: dict[str, str] | None = None,
            cwd: Path | None = None, check: bool | None = None) -> Result:
        full_env = {**sandbox_env, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "pyve", *args], cwd=cwd or project, env=full_env,
            input=input, capture_output=True, text=True, timeout=300,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check is True and proc.returncode != 0:
            raise AssertionError(f"pyve {' '.join(args)} failed:\n{result.output}")
        return result

    return run


# A PEP 517 build backend kept inside the test project (`backend-path`): `pip install -e .`
# then needs no setuptools/wheel from an index, so it works offline on any machine.
_TINY_BACKEND = '''\
import base64, hashlib, os, zipfile

NAME, VERSION = "tiny", "0.1"
REQUIRES = {requires!r}
# dynamic metadata (setuptools' `file =`, hatch's requirements_txt): read at build time
FILES = {files!r}
EXTRAS = {extras!r}


def _read(path):
    with open(path) as handle:
        return [line.split("#", 1)[0].strip() for line in handle
                if line.split("#", 1)[0].strip()]


def _requires():
    found = list(REQUIRES) + [r for name in FILES for r in _read(name)]
    for extra, names in EXTRAS.items():
        found += [f"{{r}} ; extra == '{{extra}}'" for name in names for r in _read(name)]
    return found


def _line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}"


def _wheel(directory, files):
    dist = f"{{NAME}}-{{VERSION}}.dist-info"
    meta = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"
    meta += "".join(f"Provides-Extra: {{e}}\\n" for e in EXTRAS)
    meta += "".join(f"Requires-Dist: {{r}}\\n" for r in _requires())
    files = {{**files, f"{{dist}}/METADATA": meta.encode(),
             f"{{dist}}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\n"
                                b"Tag: py3-none-any\\n"}}
    record = [_line(p, d) for p, d in files.items()] + [f"{{dist}}/RECORD,,"]
    files[f"{{dist}}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    name = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    src = os.path.join(os.getcwd(), "src")
    return _wheel(wheel_directory, {{"tiny_editable.pth": (src + "\\n").encode()}})


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join("src", "tiny.py"), "rb") as handle:
        return _wheel(wheel_directory, {{"tiny.py": handle.read()}})


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError("not needed by these tests")
'''


def write_tiny_project(root: Path, requires: tuple[str, ...] = ("gamma",),
                       requires_python: str | None = None,
                       dynamic: tuple[list[str], dict[str, list[str]]] | None = None,
                       tool: str = "") -> None:
    """An installable pyproject.toml project `tiny` (module src/tiny.py) with an in-tree
    build backend: `pip install -e .` works with no index and no setuptools. `dynamic`:
    (files, {extra: files}) the backend reads requirements from at build time, as setuptools'
    and hatch's dynamic metadata do; `tool` is appended (the table that names them)."""
    files, extras = dynamic or ([], {})
    (root / "_backend").mkdir(parents=True, exist_ok=True)
    (root / "_backend" / "tinybackend.py").write_text(_TINY_BACKEND.format(
        requires=requires, files=files, extras=extras))
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "tiny.py").write_text('VALUE = "tiny-editable"\n')
    project = ['[project]', 'name = "tiny"', 'version = "0.1"']
    if dynamic:
        project.append('dynamic = ["dependencies", "optional-dependencies"]')
    else:
        project.append(f"dependencies = {list(requires)!r}".replace("'", '"'))
    if requires_python:
        project.append(f'requires-python = "{requires_python}"')
    (root / "pyproject.toml").write_text("\n".join([
        "[build-system]", "requires = []", 'build-backend = "tinybackend"',
        'backend-path = ["_backend"]', "", *project, "", tool]))
