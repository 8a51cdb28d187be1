"""Helpers for the fault tests: start pyve in the background, stop it at a known stage
(graph.py's test-only PYVE_TEST_PAUSE_AT hook), and check a project's env is whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.conda_helpers import python_env

VENV_STAGES = ("detect", "create-env", "pip-deps", "freeze")
CONDA_STAGES = ("detect", "conda-solve", "create-env", "pip-deps", "conda-lock")


def setup(project: Path, backend: str, channel: Path | None = None) -> None:
    if backend == "venv":
        (project / "requirements.txt").write_text("beta\n")
        (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    else:
        assert channel is not None
        python_env(project, channel)  # python, bar, pip + pip: beta; linux-64


def start(project: Path, env: dict[str, str], *args: str,
          extra: dict[str, str] | None = None, stderr: Path | None = None
          ) -> subprocess.Popen[str]:
    """`pyve ARGS` in the background, in its own process group (a terminal's Ctrl-C hits
    the whole group: pyve and the pip it runs). stderr: a file to poll instead of a pipe."""
    err = open(stderr, "w") if stderr else subprocess.PIPE  # noqa: SIM115 - child keeps it
    return subprocess.Popen([sys.executable, "-m", "pyve", *args], cwd=project,
                            env={**env, **(extra or {})}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=err, text=True,
                            start_new_session=True)


def wait_for_text(path: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.02)


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"pyve exited {proc.returncode} before {path.name}:\n{out}{err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.02)


def stop_at(project: Path, env: dict[str, str], stage: str, sig: int,
            when: str = "before") -> tuple[int, str, str]:
    """Run `pyve build`, pause it at `stage`, send `sig` to its process group; return
    (exit code, stdout, stderr)."""
    spec = stage if when == "before" else f"{stage}:after"
    proc = start(project, env, "build", extra={"PYVE_TEST_PAUSE_AT": spec})
    wait_for(project / ".pyve" / f"paused-{stage}", proc)
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def env_python(project: Path, backend: str) -> Path:
    if backend == "venv":
        return project / ".venv" / "bin" / "python"
    envs = sorted(p for p in (project / ".pyve" / "envs").iterdir() if p.is_dir())
    assert len(envs) == 1, envs
    return envs[0] / "bin" / "python"


def assert_whole(project: Path, backend: str) -> None:
    """One working env with the packages, a complete lock, readable state."""
    python = env_python(project, backend)
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    check = subprocess.run([python, "-c", "import alpha, beta"], capture_output=True,
                           text=True, env=clean, check=False)
    assert check.returncode == 0, check.stderr
    json.loads((project / ".pyve" / "state.json").read_text())
    if backend == "venv":
        lock = (project / "requirements.lock.txt").read_text()
        assert "alpha==" in lock and "beta==" in lock and lock.endswith("\n")
        from pyve.backends.venv.backend import MARKER

        assert (project / MARKER).is_file()
    else:
        from pyve.backends.conda.backend import MARKER as CONDA_MARKER
        from pyve.backends.conda.lockfile import read_lock

        lock = read_lock(project / "conda-lock.yml")
        names = {p["name"] for p in lock["package"]}
        assert {"python", "bar", "beta"} <= names, names
        assert (python.parent.parent / CONDA_MARKER).is_file()
    leftovers = [p for p in project.rglob(".*.tmp")] + list(project.glob(".pyve/paused-*"))
    assert not [p for p in leftovers if ".pyve/paused-" not in str(p)], leftovers
