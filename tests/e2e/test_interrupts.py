"""Interrupted builds, at every stage of both backends: Ctrl-C (SIGINT to the process group)
says one line and exits 130; SIGKILL after a stage did its work but before pyve recorded it
leaves nothing the next build takes as finished. The next `pyve build` repairs everything.

The stop points are deterministic: graph.py's test-only PYVE_TEST_PAUSE_AT hook writes
`.pyve/paused-<stage>` and waits; the test sends the signal when the file appears."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import ran, stage_line
from tests.support.faults import (
    CONDA_STAGES,
    VENV_STAGES,
    assert_whole,
    setup,
    start,
    stop_at,
    wait_for,
)

CASES = [("venv", s) for s in VENV_STAGES] + [("micromamba", s) for s in CONDA_STAGES]


def _check_interrupt_output(code: int, out: str, err: str) -> None:
    assert code == 130, out + err
    assert "Traceback" not in out + err, out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == ["interrupted; the next `pyve build` repairs what was left unfinished"], err


@pytest.mark.parametrize(("backend", "stage"), CASES, ids=[f"{b}-{s}" for b, s in CASES])
def test_interrupt_then_kill_then_build_repairs(
    project: Path, pyve: PyveRunner, sandbox_env: dict[str, str], local_channel: Path,
    backend: str, stage: str,
) -> None:
    if backend == "micromamba" and not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    setup(project, backend, local_channel)

    # 1. Ctrl-C just before the stage runs: one line, exit 130, no traceback.
    _check_interrupt_output(*stop_at(project, sandbox_env, stage, signal.SIGINT))
    assert not (project / ".pyve" / f"paused-{stage}").exists()
    if stage != "detect":  # what finished before the interrupt was saved
        assert (project / ".pyve" / "state.json").is_file()

    # 2. SIGKILL after the stage's action finished, before its stamp and the state are written.
    code, out, err = stop_at(project, sandbox_env, stage, signal.SIGKILL, when="after")
    assert code == -signal.SIGKILL, out + err

    # 3. The next build finishes, re-running the killed stage: it was never recorded.
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert ran(result.stdout, stage), result.stdout
    assert_whole(project, backend)

    # 4. ...and then everything is up to date.
    again = pyve("build")
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.output


@pytest.mark.parametrize(("backend", "stage"), [("venv", "create-env"),
                                                ("micromamba", "create-env")])
def test_kill_before_stage_on_a_built_project(
    project: Path, pyve: PyveRunner, sandbox_env: dict[str, str], local_channel: Path,
    backend: str, stage: str,
) -> None:
    """A forced rebuild killed just before a stage: the old stamp must not vouch for an env
    the killed build already began to replace."""
    if backend == "micromamba" and not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    setup(project, backend, local_channel)
    assert pyve("build").returncode == 0
    proc = start(project, sandbox_env, "build", "--force",
                 extra={"PYVE_TEST_PAUSE_AT": f"{stage}:after"})
    wait_for(project / ".pyve" / f"paused-{stage}", proc)
    proc.kill()
    proc.communicate(timeout=60)
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert ran(result.stdout, stage), stage_line(result.stdout, stage)
    assert_whole(project, backend)


@linux_only
def test_ctrl_c_while_pip_runs_kills_pip_and_prints_no_pip_trace(
    project: Path, pyve: PyveRunner, sandbox_env: dict[str, str],
) -> None:
    """The installer waits on an index that never answers (a socket that listens and says
    nothing); Ctrl-C hits pyve and the installer. (A FIFO named by `-r` no longer reaches the
    installer: pyve refuses it.)"""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the kernel; no byte is ever sent back
    index = f"http://127.0.0.1:{silent.getsockname()[1]}/simple"
    (project / "requirements.txt").write_text("beta\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    waiting = {"PIP_NO_INDEX": "false", "PIP_INDEX_URL": index, "PIP_FIND_LINKS": "",
               "PIP_CONFIG_FILE": os.devnull, "PIP_TIMEOUT": "300", "UV_HTTP_TIMEOUT": "300"}
    try:
        proc = start(project, sandbox_env, "build", extra=waiting)
        installer = _wait_for_installer(proc)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        silent.close()
    _check_interrupt_output(proc.returncode, out, err)
    assert not Path(f"/proc/{installer}").exists() or _is_zombie(installer)
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")


def _wait_for_installer(proc: subprocess.Popen[str]) -> int:
    """The pid of the installer (`uv pip install` or `pip install`, a child of pyve)."""
    import time

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for child in _children(proc.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pip" in cmdline and b"install" in cmdline:
                time.sleep(0.5)  # past its start-up: waiting on the index
                return child
        time.sleep(0.05)
    raise AssertionError("the installer never started")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True



# --- killed while `build --force` removes the old env --------------------------------------

def test_kill_while_force_removes_the_old_venv(project: Path, pyve: PyveRunner,
                                               sandbox_env: dict[str, str]) -> None:
    """The old .venv is renamed aside (atomic) before it is deleted: a kill during the
    delete leaves `.venv.pyve-old-<id>`, which the next build finishes removing -- never a
    half-deleted .venv that the next build refuses as "not a virtual environment"."""
    setup(project, "venv")
    assert pyve("build").returncode == 0
    proc = start(project, sandbox_env, "build", "--force",
                 extra={"PYVE_TEST_PAUSE_AT": "discard"})
    wait_for(project / ".pyve" / "paused-discard", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert not (project / ".venv").exists()
    assert len(list(project.glob(".venv.pyve-old-*"))) == 1
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert not list(project.glob(".venv.pyve-old-*"))
    assert_whole(project, "venv")


def test_a_venv_half_deleted_by_a_killed_build_is_replaced(project: Path,
                                                            pyve: PyveRunner) -> None:
    """What an older pyve left when killed while deleting the old env in place: pyve's
    marker without pyvenv.cfg or bin/. It is pyve's env; the next build replaces it."""
    import shutil

    setup(project, "venv")
    assert pyve("build").returncode == 0
    (project / ".venv" / "pyvenv.cfg").unlink()
    shutil.rmtree(project / ".venv" / "bin")
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")


@linux_only
def test_kill_while_a_moved_conda_prefix_is_removed(
        tmp_path: Path, pyve: PyveRunner, sandbox_env: dict[str, str], local_channel: Path,
) -> None:
    """A copied project's conda prefix is removed before it is made again (its text files
    name the old path); killed during that removal, the next build finishes the job."""
    import shutil

    first = tmp_path / "first"
    first.mkdir()
    setup(first, "micromamba", local_channel)
    assert pyve("build", cwd=first).returncode == 0
    copy = tmp_path / "copy"
    shutil.copytree(first, copy, symlinks=True)
    proc = start(copy, sandbox_env, "build", extra={"PYVE_TEST_PAUSE_AT": "discard"})
    wait_for(copy / ".pyve" / "paused-discard", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert len(list((copy / ".pyve" / "envs").glob("*.pyve-old-*"))) == 1
    result = pyve("build", cwd=copy)
    assert result.returncode == 0, result.output
    assert not list((copy / ".pyve" / "envs").glob("*.pyve-old-*"))
    assert_whole(copy, "micromamba")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_term_and_hup_stop_the_build_as_ctrl_c_does(project: Path, pyve: PyveRunner,
                                                    sandbox_env: dict[str, str],
                                                    sig: int) -> None:
    """On a terminal, SIGTERM and SIGHUP used to end pyve where it stood: the live line's
    cursor left hidden, nothing said. Now: the cursor back, `interrupted`, exit 128+N, and
    the next build repairs. (SIGINT: test_interrupt_then_kill_then_build_repairs.)"""
    import os
    import pty

    setup(project, "venv")
    env = {k: v for k, v in sandbox_env.items() if k not in ("NO_COLOR", "CI")}
    env["PYVE_TEST_PAUSE_AT"] = "pip-deps"
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pyve", "build"], cwd=project, env=env,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    try:
        wait_for(project / ".pyve" / "paused-pip-deps", proc)
        proc.send_signal(sig)  # to pyve alone, as `kill` or a closing terminal sends it
        proc.wait(timeout=60)
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty's other side is closed: all is read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    text = seen.decode(errors="replace")
    assert proc.returncode == 128 + sig, text
    assert "interrupted; the next `pyve build` repairs" in text, text
    assert text.rfind("\x1b[?25l") < text.rfind("\x1b[?25h"), text  # the cursor is shown again
    assert "Traceback" not in text, text
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")


# --- killed while a file in the project's root is written ----------------------------------

def test_kill_while_the_lock_is_written_leaves_nothing_in_the_project(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """A kill -9 between writing the lock's temp file and renaming it into place once left
    `.requirements.lock.txt.<random>.tmp` in the project for good (`git add .` commits it).
    The temp file is in .pyve/tmp/, and the next run removes it; an older pyve's leftover
    beside the lock goes too."""
    setup(project, "venv")
    proc = start(project, sandbox_env, "build",
                 extra={"PYVE_TEST_PAUSE_AT": "write-requirements.lock.txt"})
    wait_for(project / ".pyve" / "paused-write-requirements.lock.txt", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert not [p.name for p in project.iterdir() if p.name.endswith(".tmp")]
    stranded = list((project / ".pyve" / "tmp").iterdir())
    assert [p.name.split(".")[:3] for p in stranded] == [["requirements", "lock", "txt"]]
    legacy = project / ".requirements.lock.txt.a1b2c3d4.tmp"  # what pyve <= 0.x left
    legacy.write_text("half a lock\n")
    mine = project / ".notes.a1b2c3d4.tmp"  # not a file pyve writes: the user's
    mine.write_text("mine\n")
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert not (project / ".pyve" / "tmp").exists() and not legacy.exists()
    assert mine.read_text() == "mine\n"
    mine.unlink()
    assert_whole(project, "venv")
