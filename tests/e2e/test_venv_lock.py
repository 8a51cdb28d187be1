"""requirements.lock.txt is a lock others can use: every file's hash, extras in the form pip
needs, markers, the same bytes whichever installer wrote it, and one lock installing into
venvs of two Python versions -- with the pip bundled in Python 3.11 (23.2.1) too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, write_tiny_project
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


# --- the lock holds for every Python and platform the project supports ----------------------

@pytest.fixture(scope="module")
def range_house(house: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """modern 2.0 needs python >= 3.11 (1.0 runs on 3.10); helper depends on the project
    `tiny` itself, of which the index has a release (0.5); needy wants alpha >= 2 on win32."""
    where = tmp_path_factory.mktemp("range-house")
    for wheel in house.glob("*.whl"):
        shutil.copy2(wheel, where)
    build_wheel(where, "modern", "1.0", requires_python=">=3.10")
    build_wheel(where, "modern", "2.0", requires_python=">=3.11")
    build_wheel(where, "helper", "1.0", ("tiny",))
    build_wheel(where, "tiny", "0.5")
    build_wheel(where, "needy", "1.0", ("alpha>=2; sys_platform == 'win32'",))
    return where


def freeze_list(python: Path) -> str:
    return subprocess.run([python, "-m", "pip", "list", "--format=freeze"],
                          capture_output=True, text=True, check=True).stdout


def test_lock_covers_requires_python_leaves_the_project_out_and_installs_low_and_high(
        project: Path, pyve: PyveRunner, range_house: Path, tmp_path: Path,
        sandbox_env: dict[str, str]) -> None:
    """requires-python >= 3.10, env 3.11: the lock (and pylock.toml) install into 3.10 and
    3.13 venvs, with the version each can run; `tiny` (the project) is never an index pin."""
    from pyve.project import tomllib

    uv_exe = uv()
    low, high = pyenv_version("3.10"), pyenv_version("3.13")
    write_tiny_project(project, ("modern", "helper"), requires_python=">=3.10")
    env = {"PIP_FIND_LINKS": str(range_house)}
    pyve("init", "3.11", "--auto-install-deps", check=True, env=env)
    lock = (project / "requirements.lock.txt").read_text()
    assert ("# Covers: python >= 3.10 (requires-python >=3.10 in pyproject.toml); "
            "every platform\n") in lock, lock
    assert "modern==1.0 ; python_full_version < '3.11' \\\n" in lock, lock
    assert "modern==2.0 ; python_full_version >= '3.11' \\\n" in lock, lock
    assert "helper==1.0 \\\n" in lock
    assert "\ntiny" not in lock and "# Not in the lock: tiny itself" in lock, lock
    pylock = tomllib.loads((project / "pylock.toml").read_text())
    assert sorted((p["name"], p["version"]) for p in pylock["packages"]) == \
        [("helper", "1.0"), ("modern", "1.0"), ("modern", "2.0")], pylock
    inputs = next(line for line in lock.splitlines() if line.startswith("# pyve-inputs: "))
    assert pylock["tool"]["pyve"]["inputs"] == inputs.removeprefix("# pyve-inputs: ")
    assert "pylock.toml found" not in pyve("status").output  # pyve's own: no note
    for version, modern in ((low, "1.0"), (high, "2.0")):
        # requirements.lock.txt with the interpreter's own pip (the project comes from source)
        target = tmp_path / f"pip-{version}"
        subprocess.run([python(version), "-m", "venv", target], check=True,
                       capture_output=True)
        result = subprocess.run([target / "bin" / "python", "-m", "pip", "install", "--no-deps",
                                 "--require-hashes", "-r", project / "requirements.lock.txt"],
                                env={**sandbox_env, **env}, capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"modern=={modern}" in freeze_list(target / "bin" / "python")
        # pylock.toml with uv pip sync into a fresh venv
        target = tmp_path / f"uv-{version}"
        subprocess.run([uv_exe, "venv", "--quiet", "--python", python(version), target],
                       check=True, env=sandbox_env)
        result = subprocess.run([uv_exe, "pip", "sync", "--python", target / "bin" / "python",
                                 project / "pylock.toml"], env=sandbox_env,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        listed = subprocess.run([uv_exe, "pip", "freeze", "--python", target / "bin" / "python"],
                                env=sandbox_env, capture_output=True, text=True,
                                check=True).stdout
        assert f"modern=={modern}" in listed and "helper==1.0" in listed, listed
        assert "tiny" not in listed


def test_frozen_checks_pylock_too_and_the_projects_own_pylock_is_kept(
        project: Path, pyve: PyveRunner, range_house: Path) -> None:
    uv()
    env = {"PIP_FIND_LINKS": str(range_house)}
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "3.11", "--auto-install-deps", check=True, env=env)
    pylock = project / "pylock.toml"
    text = pylock.read_text()
    assert "[tool.pyve]" in text and 'name = "gamma"' in text
    pylock.write_text(text.replace('inputs = "requirements.txt:', 'inputs = "requirements.txt:0'))
    frozen = pyve("build", "--frozen", env=env)
    assert frozen.returncode == 1
    assert ("error: --frozen: pylock.toml does not match requirements.lock.txt"
            in frozen.stderr), frozen.output
    checks = {c["name"]: c for c in json.loads(pyve("doctor", "--json", env=env).stdout)[
        "checks"]}
    assert checks["lock-fresh"]["status"] == "warn", checks["lock-fresh"]
    assert "pylock.toml does not match" in checks["lock-fresh"]["message"]
    # a pylock.toml of the project's own is never written over; pyve says so
    own = 'lock-version = "1.0"\ncreated-by = "another tool"\n'
    pylock.write_text(own)
    (project / "requirements.txt").write_text("gamma\nalpha\n")
    built = pyve("build", env=env, check=True)
    assert pylock.read_text() == own
    assert "pylock.toml is the project's own (not written by pyve)" in built.output
    assert "alpha==2.0" in (project / "requirements.lock.txt").read_text()
    assert "pylock.toml" not in (project / "requirements.lock.txt").read_text()
    assert pyve("build", "--frozen", env=env).returncode == 0


def test_a_lock_that_cannot_be_solved_leaves_the_env_usable_until_narrowed(
        project: Path, pyve: PyveRunner, range_house: Path) -> None:
    """needy wants alpha >= 2 on win32, the project pins alpha 1.0: no lock for every
    platform. The env still runs commands; the failure is not solved again until an input
    changes; lock_environments (pyve.toml) or [tool.uv] environments narrow the lock."""
    uv()
    env = {"PIP_FIND_LINKS": str(range_house)}
    (project / "requirements.txt").write_text("alpha==1.0\nneedy\n")
    first = pyve("init", "3.11", "--auto-install-deps", env=env)
    assert first.returncode == 1, first.output
    assert "freeze" in first.output and "lock_environments" in first.stderr, first.output
    assert not (project / "requirements.lock.txt").exists()
    ran = pyve("run", "python", "-c", "import needy, alpha; print(alpha.__version__)", env=env)
    assert ran.returncode == 0, ran.output
    assert ran.stdout == "1.0\n"
    said = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and said[0].startswith(
        "warning: requirements.lock.txt was not written"), said
    assert "not solved again" in said[0], said
    again = pyve("build", env=env)
    assert again.returncode == 1 and "not solved again" in again.stderr, again.output
    assert "lock_environments" in again.stderr

    config = project / "pyve.toml"
    base = config.read_text()
    config.write_text(base + "lock_environments = [\"sys_platform == 'linux'\"]\n")
    pyve("build", check=True, env=env)
    lock = (project / "requirements.lock.txt").read_text()
    assert ("# Covers: python >= 3.11 (the environment's python: the project declares no "
            "requires-python); sys_platform == 'linux' (pyve.toml lock_environments)\n"
            ) in lock, lock
    assert "alpha==1.0 ; sys_platform == 'linux' \\\n" in lock, lock
    assert "needy==1.0 ; sys_platform == 'linux' \\\n" in lock

    # a marker that is not one: one error line naming pyve.toml and the value, nothing changes
    config.write_text(base + 'lock_environments = ["sys_platform = linux"]\n')
    bad = pyve("build", env=env)
    assert bad.returncode != 0
    assert bad.stderr.splitlines()[0] == ("error: pyve.toml: lock_environments: "
                                          "'sys_platform = linux' is not a PEP 508 marker"), \
        bad.stderr
    assert (project / "requirements.lock.txt").read_text() == lock

    # the project's own [tool.uv] environments narrow it just the same
    config.write_text(base)
    (project / "pyproject.toml").write_text(
        "[tool.uv]\nenvironments = [\"sys_platform == 'linux' and python_version >= '3.11'\"]\n")
    pyve("build", check=True, env=env)
    lock = (project / "requirements.lock.txt").read_text()
    assert ("sys_platform == 'linux' and python_version >= '3.11' ([tool.uv] environments "
            "in pyproject.toml)\n") in lock, lock
