"""requirements.lock.txt is a lock others can use: every file's hash, extras in the form pip
needs, markers, the same bytes whichever installer wrote it, and one lock installing into
venvs of two Python versions -- with the pip bundled in Python 3.11 (23.2.1) too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import pyenv_python
from tests.support.wheel_fixtures import build_wheel, file_sha256

# app needs a dependency's extra (epsilon[fast] -> gamma), a package with one wheel per
# CPython (native: cp311 and cp312 files) and, on 3.12 only, beta (-> alpha).
APP_REQUIRES = ("epsilon[fast]>=1", "native>=1", 'beta; python_version >= "3.12"')


@pytest.fixture(scope="module")
def house(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("portable-house")
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy2(wheel, house)
    build_wheel(house, "epsilon", "1.0", ("gamma; extra == 'fast'",), extras=("fast",))
    build_wheel(house, "native", "1.0", tag="cp311-none-any")
    build_wheel(house, "native", "1.0", tag="cp312-none-any")
    build_wheel(house, "app", "1.0", APP_REQUIRES)
    return house


def uv() -> str:
    from pyve.installers.uv import find_uv

    found = find_uv()
    if found is None:
        pytest.skip("uv is not installed")
    return found


def python(version: str) -> Path:
    found = pyenv_python(version)
    if found is None:
        pytest.skip(f"python {version} is not under ~/.pyenv/versions")
    return found


def pyenv_version(minor: str) -> str:
    from tests.conftest import REAL_PYENV_ROOT

    found = sorted(p.name for p in (Path(REAL_PYENV_ROOT) / "versions").glob(f"{minor}.*"))
    if not found:
        pytest.skip(f"no python {minor} under ~/.pyenv/versions")
    return found[-1]


def build(pyve: PyveRunner, root: Path, house: Path, installer: str = "pip") -> str:
    root.mkdir(exist_ok=True)
    (root / "requirements.txt").write_text("app\n")
    pyve("init", "3.11", "--auto-install-deps", cwd=root, check=True,
         env={"PIP_FIND_LINKS": str(house), "PYVE_INSTALLER": installer})
    return (root / "requirements.lock.txt").read_text()


def pip_install(lock: Path, version: str, target: Path, house: Path,
                env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A fresh venv of that Python with its own bundled pip, then the lock, hash-checked."""
    subprocess.run([python(version), "-m", "venv", target], check=True, capture_output=True)
    return subprocess.run([target / "bin" / "python", "-m", "pip", "install",
                           "--require-hashes", "-r", lock],
                          env={**env, "PIP_FIND_LINKS": str(house)},
                          capture_output=True, text=True, check=False)


def test_lock_has_every_file_extras_and_markers(project: Path, pyve: PyveRunner,
                                                house: Path) -> None:
    uv()
    lock = build(pyve, project, house)
    native = [file_sha256(w) for w in sorted(house.glob("native-1.0-*.whl"))]
    assert len(native) == 2
    assert ("native==1.0 \\\n"
            + "".join(f"    --hash=sha256:{h} \\\n" for h in sorted(native))).rstrip(" \\\n")\
        in lock, lock
    assert "epsilon[fast]==1.0 \\\n" in lock  # the extra, as pip requires it
    assert "beta==1.0 ; python_full_version >= '3.12' \\\n" in lock  # the marker kept
    assert "alpha==2.0 ; python_full_version >= '3.12' \\\n" in lock
    assert "gamma==0.1 \\\n" in lock


def test_one_lock_installs_into_two_pythons(project: Path, pyve: PyveRunner, house: Path,
                                            tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    """pip 23.2.1 (bundled with both) into 3.11 and 3.12: the cp312 file's hash, the
    3.12-only requirement and the dependency's extra are all in the lock."""
    uv()
    build(pyve, project, house)
    lock = project / "requirements.lock.txt"
    for version in (pyenv_version("3.11"), pyenv_version("3.12")):
        target = tmp_path / f"py{version}"
        result = pip_install(lock, version, target, house, sandbox_env)
        assert result.returncode == 0, result.stdout + result.stderr
        names = subprocess.run([target / "bin" / "python", "-m", "pip", "list",
                                "--format=freeze"], capture_output=True, text=True,
                               check=True).stdout
        assert "native==1.0" in names and "gamma==0.1" in names
        assert ("beta==1.0" in names) == version.startswith("3.12"), names


def test_same_lock_whichever_installer_and_each_installs_with_the_other(
        pyve: PyveRunner, house: Path, tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    uv_exe = uv()
    by_pip = build(pyve, tmp_path / "by-pip", house, "pip")
    by_uv = build(pyve, tmp_path / "by-uv", house, "uv")
    assert by_pip == by_uv
    # the uv-written lock, installed by pip (bundled 23.2.1 in a 3.11 venv)
    result = pip_install(tmp_path / "by-uv" / "requirements.lock.txt", pyenv_version("3.11"),
                         tmp_path / "pip-target", house, sandbox_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # the pip-written lock, installed by uv into a 3.12 venv
    target = tmp_path / "uv-target"
    subprocess.run([uv_exe, "venv", "--quiet", "--python", python(pyenv_version("3.12")),
                    target], check=True, env=sandbox_env)
    result = subprocess.run(
        [uv_exe, "pip", "install", "--no-index", "--find-links", house, "--require-hashes",
         "--python", target / "bin" / "python", "-r",
         tmp_path / "by-pip" / "requirements.lock.txt"],
        env=sandbox_env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_lock_check_venv(venv_project: Path, pyve: PyveRunner) -> None:
    """`pyve lock --check` for requirements.lock.txt: fresh against the inputs it records
    (exit 0), stale once one changes or it is gone (exit 1, naming why); changes nothing;
    --json with the shape of the conda one."""
    result = pyve("lock", "--check")
    assert result.returncode == 0, result.output
    assert result.stdout.strip() == "requirements.lock.txt is fresh for all platforms."
    lock = (venv_project / "requirements.lock.txt").read_bytes()
    (venv_project / "requirements.txt").write_text("alpha\nbeta\n")
    result = pyve("lock", "--check")
    assert result.returncode == 1, result.output
    assert "requirements.txt changed since it was written" in result.output
    data = json.loads(pyve("lock", "--check", "--json").stdout)
    assert {k: data[k] for k in ("schema", "command", "ok", "fresh", "lock")} == {
        "schema": 1, "command": "lock", "ok": False, "fresh": False,
        "lock": "requirements.lock.txt"}
    assert [p["platform"] for p in data["platforms"]] == ["all platforms"]
    assert (venv_project / "requirements.lock.txt").read_bytes() == lock
    assert pyve("lock", "--check", "--platform", "linux-64").returncode == 2
    (venv_project / "requirements.lock.txt").unlink()
    result = pyve("lock", "--check")
    assert result.returncode == 1 and "requirements.lock.txt is missing" in result.output
