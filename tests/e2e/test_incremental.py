"""`pyve build --dry-run / --check / --json / --frozen`, the fast no-op path, `pyve run`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PyveRunner
from tests.support.helpers import py, stage_line, tree


def test_dry_run_and_check_change_nothing(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    assert pyve("build", "--check").returncode == 0
    (project / "requirements.txt").write_text("gamma\nalpha==1.0\n")
    before = tree(project)

    dry = pyve("build", "--dry-run", check=True)
    assert "requirements.txt changed" in stage_line(dry.stdout, "pip-deps")
    assert "would run" in stage_line(dry.stdout, "freeze")
    assert "up to date" in stage_line(dry.stdout, "create-env")
    assert "Would run 2 of 4 stages." in dry.stdout

    check = pyve("build", "--check")
    assert check.returncode == 1
    assert "stale: pip-deps: requirements.txt changed" in check.stdout
    assert "create-env" not in check.stdout

    data = json.loads(pyve("build", "--check", "--json").stdout)
    assert data["ok"] is False and data["up_to_date"] is False and data["mode"] == "check"
    stages = {s["name"]: s for s in data["stages"]}
    assert stages["pip-deps"]["status"] == "stale"
    assert stages["pip-deps"]["reasons"] == ["requirements.txt changed"]
    assert stages["detect"]["status"] == "up-to-date"
    assert tree(project) == before  # nothing written, not even .pyve/


def test_json_build_and_status(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    data = json.loads(pyve("build", "--json", "--auto-install-deps", check=True).stdout)
    assert data["schema"] == 1 and data["command"] == "build" and data["ok"] is True
    assert [s["name"] for s in data["stages"]] == ["detect", "create-env", "pip-deps", "freeze"]
    for stage in data["stages"]:
        assert stage["status"] == "ran" and stage["reasons"] == ["first build"]
        assert len(stage["fingerprint"]) == 32 and stage["duration"] >= 0
    status = json.loads(pyve("status", "--json", check=True).stdout)
    assert status["command"] == "status" and status["up_to_date"] is True
    assert status["fingerprint"] == data["fingerprint"]
    assert status["python"] == data["python"]
    # the fast path answers `build --json` with the same document shape
    again = json.loads(pyve("build", "--json", check=True).stdout)
    assert again["up_to_date"] is True and again["fingerprint"] == data["fingerprint"]
    assert {s["status"] for s in again["stages"]} == {"up-to-date"}


def test_fast_path_prints_what_doit_prints(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    slow = pyve("build", env={"PYVE_NO_FAST": "1"}, check=True)
    assert (project / ".pyve" / "fast.json").is_file()
    fast = pyve("build", check=True)
    assert fast.stdout == slow.stdout
    assert "Nothing to do" in fast.stdout
    (project / "requirements.txt").write_text("gamma\nalpha==1.0\n")
    assert "requirements.txt changed" in stage_line(pyve("build", check=True).stdout, "pip-deps")


def test_run_brings_env_up_to_date_first(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    (project / "requirements.txt").write_text("gamma\nalpha==1.0\n")
    code = "import alpha; print(alpha.__version__)"
    frozen = pyve("run", "--frozen", "python", "-c", code)
    assert frozen.returncode == 1  # --frozen: run as the env is, no build
    result = pyve("run", "python", "-c", code, check=True)
    assert result.stdout == "1.0\n"  # the build's lines went to stderr
    assert "pip-deps" in result.stderr
    assert pyve("build", "--check").returncode == 0
    assert pyve("run", "python", "-c", code, check=True).stdout == "1.0\n"  # fast path


def test_frozen_installs_the_lock_and_refuses_a_stale_one(project: Path, pyve: PyveRunner,
                                                         tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    lock = (project / "requirements.lock.txt").read_text()
    # a fresh clone with the committed lock: --frozen builds from the lock alone
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("requirements.txt", "requirements.lock.txt", "pyve.toml"):
        shutil.copy2(project / name, clone / name)
    result = pyve("build", "--frozen", cwd=clone, check=True)
    assert "pip-deps" in result.stdout
    assert py(clone, "import alpha, beta; print(alpha.__version__)").stdout == "2.0\n"
    assert (clone / "requirements.lock.txt").read_text() == lock  # never rewritten

    (clone / "requirements.txt").write_text("beta\ngamma\n")
    stale = pyve("build", "--frozen", cwd=clone)
    assert stale.returncode == 1
    assert ("--frozen: requirements.lock.txt is stale: requirements.txt changed"
            in stale.stderr)
    (clone / "requirements.lock.txt").unlink()
    missing = pyve("build", "--frozen", cwd=clone)
    assert missing.returncode == 1
    assert "--frozen: requirements.lock.txt is missing" in missing.stderr


def test_uv_installer_builds_a_lock_pip_accepts(project: Path, pyve: PyveRunner,
                                               tmp_path: Path,
                                               sandbox_env: dict[str, str]) -> None:
    from pyve.errors import PyveError
    from pyve.installers.uv import uv_bin

    try:
        uv_bin()
    except PyveError:
        import pytest

        pytest.skip("uv is not installed")
    (project / "requirements.txt").write_text("beta\n")
    # uv ignores PIP_NO_INDEX/UV_NO_INDEX: pyve must pass --no-index, or uv would ask this
    # unreachable index (and PyPI) and fail.
    dead_index = {"UV_INDEX_URL": "http://127.0.0.1:9/simple", "UV_HTTP_RETRIES": "0"}
    result = pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "uv", **dead_index},
                  check=True)
    assert " ran " in stage_line(result.stdout, "pip-deps")
    lock = project / "requirements.lock.txt"
    assert "alpha==2.0" in lock.read_text() and "beta==1.0" in lock.read_text()
    target = tmp_path / "check"
    subprocess.run(["python3", "-m", "venv", target], check=True)
    subprocess.run([target / "bin" / "python", "-m", "pip", "install", "--require-hashes",
                    "-r", lock], check=True, env=sandbox_env, capture_output=True)
