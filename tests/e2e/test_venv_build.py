"""The main path: `pyve init` makes a correct .venv; later builds re-run only what changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import PyveRunner
from tests.support.helpers import stage_line


def test_init_builds_venv_with_requirements(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("init", "--auto-install-deps", check=True)
    assert "venv backend (requirements.txt found)" in result.stdout
    py = project / ".venv" / "bin" / "python"
    out = subprocess.run([py, "-c", "import alpha, beta; print(alpha.__version__)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "2.0"
    pip = subprocess.run([project / ".venv" / "bin" / "pip", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert str(project / ".venv") in pip
    config = (project / "pyve.toml").read_text()
    assert 'backend = "venv"' in config and "install_deps = true" in config
    lock = (project / "requirements.lock.txt").read_text()
    assert "alpha==2.0" in lock and "beta==1.0" in lock and "--hash=sha256:" in lock


def test_second_build_runs_nothing(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    result = pyve("build", check=True)
    for stage in ("detect", "create-env", "pip-deps", "freeze"):
        assert "up to date" in stage_line(result.stdout, stage)
    assert "Nothing to do" in result.stdout


def test_requirements_edit_reruns_pip_and_freeze_only(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    (project / "requirements.txt").write_text("gamma\nalpha==1.0\n")
    result = pyve("build", check=True)
    assert "up to date" in stage_line(result.stdout, "detect")
    assert "up to date" in stage_line(result.stdout, "create-env")
    assert "requirements.txt changed" in stage_line(result.stdout, "pip-deps")
    assert " ran " in stage_line(result.stdout, "freeze")
    assert "alpha==1.0" in (project / "requirements.lock.txt").read_text()


def test_deleted_venv_is_rebuilt_with_dependencies(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    shutil.rmtree(project / ".venv")
    result = pyve("build", check=True)
    assert "environment missing" in stage_line(result.stdout, "create-env")
    assert " ran " in stage_line(result.stdout, "pip-deps")
    subprocess.run([project / ".venv" / "bin" / "python", "-c", "import gamma"], check=True)


def test_lock_is_accepted_by_require_hashes(project: Path, pyve: PyveRunner,
                                            tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    first = (project / "requirements.lock.txt").read_bytes()
    assert pyve("lock", check=True).returncode == 0
    assert (project / "requirements.lock.txt").read_bytes() == first  # same env, same bytes
    target = tmp_path / "check"
    subprocess.run(["python3", "-m", "venv", target], check=True)
    subprocess.run([target / "bin" / "python", "-m", "pip", "install", "--require-hashes",
                    "-r", project / "requirements.lock.txt"], check=True, env=sandbox_env,
                   capture_output=True)


def test_run_passes_exit_code_and_uses_env(project: Path, pyve: PyveRunner) -> None:
    pyve("init", "--yes", check=True)
    result = pyve("run", "python", "-c", "import sys; print(sys.prefix); sys.exit(7)")
    assert result.returncode == 7
    assert result.stdout.strip() == str(project / ".venv")


def test_run_without_env_names_init(project: Path, pyve: PyveRunner) -> None:
    result = pyve("run", "python", "-c", "pass")
    assert result.returncode == 1
    assert "pyve init" in result.stderr
