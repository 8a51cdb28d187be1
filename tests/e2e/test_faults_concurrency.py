"""Many pyve processes on one project at once: each waits for the project lock (and says
so) or completes; afterwards one correct env, readable state, nothing lost -- also when a
`pyve purge` removes .pyve/ (and its lock file) while others wait on that lock."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.faults import assert_whole, setup, start, wait_for, wait_for_text

WAITING = "waiting for another pyve process"


def _run_all(project: Path, env: dict[str, str], commands: list[list[str]],
             extra: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    procs = [start(project, env, *cmd, extra=extra) for cmd in commands]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


def _assert_clean(results: list[tuple[int, str, str]]) -> None:
    for code, out, err in results:
        assert code == 0, out + err
        assert "Traceback" not in out + err and "internal error" not in err, out + err


@pytest.mark.parametrize("backend", ["venv", "micromamba"])
def test_four_builds_at_once(project: Path, pyve: PyveRunner, sandbox_env: dict[str, str],
                             local_channel: Path, backend: str) -> None:
    if backend == "micromamba" and not sys.platform.startswith("linux"):
        pytest.skip("the local conda channel's python is linux-64 only")
    setup(project, backend, local_channel)
    results = _run_all(project, sandbox_env, [["build"]] * 4)
    _assert_clean(results)
    builders = [out for _c, out, _e in results if "Ran " in out]
    idle = [out for _c, out, _e in results if "Nothing to do" in out]
    assert len(builders) == 1 and len(idle) == 3, results
    assert_whole(project, backend)
    assert "Nothing to do" in pyve("build").stdout


def test_waiters_say_so(project: Path, sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """A holder paused inside its build: four more processes each print the waiting line
    (naming the holder) and wait; when the holder dies they all finish."""
    setup(project, "venv")
    holder = start(project, sandbox_env, "build", extra={"PYVE_TEST_PAUSE_AT": "pip-deps"})
    wait_for(project / ".pyve" / "paused-pip-deps", holder)
    assert (project / ".pyve" / "lock").read_text().strip() == str(holder.pid)
    commands = (["build"], ["build"], ["lock"], ["build", "--force"])
    logs = [tmp_path / f"waiter{i}.err" for i in range(len(commands))]
    waiters = [start(project, sandbox_env, *cmd, stderr=log)
               for cmd, log in zip(commands, logs, strict=True)]
    for log in logs:
        wait_for_text(log, f"{WAITING} (pid {holder.pid})")
    assert all(w.poll() is None for w in waiters)  # all blocked behind the holder
    holder.kill()
    holder.communicate(timeout=60)
    for cmd, waiter, log in zip(commands, waiters, logs, strict=True):
        out, _ = waiter.communicate(timeout=300)
        if cmd == ["lock"] and waiter.returncode == 1:
            # it got the project before any build finished the killed one's pip-deps: a
            # lock now would not be backed by the env, so it refuses in one line
            assert "the last build did not finish installing" in log.read_text()
            continue
        assert waiter.returncode == 0, out + log.read_text()
        assert "Traceback" not in out + log.read_text()
    assert_whole(project, "venv")


def test_build_lock_purge_mixed(project: Path, pyve: PyveRunner,
                                sandbox_env: dict[str, str]) -> None:
    """Builds, locks and purges at once: each exits 0, and a build afterwards makes one
    correct env from whatever order they ran in."""
    setup(project, "venv")
    assert pyve("build").returncode == 0
    commands = [["build"], ["purge"], ["lock"], ["build", "--force"], ["purge"]]
    results = _run_all(project, sandbox_env, commands)
    for cmd, (code, out, err) in zip(commands, results, strict=True):
        if cmd == ["lock"] and code == 1:  # ran after a purge: the one-line answer
            assert "\nerror: no environment to lock yet" in "\n" + err, out + err
            continue
        _assert_clean([(code, out, err)])
    json_state = project / ".pyve" / "state.json"
    if json_state.exists():
        json.loads(json_state.read_text())
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")


def test_purge_while_a_build_waits(project: Path, pyve: PyveRunner,
                                   sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """purge holds the lock and removes .pyve/ (with the lock file) while builds wait on
    the old lock file: they must start over with a new lock and build a whole env."""
    setup(project, "venv")
    assert pyve("build").returncode == 0
    holder = start(project, sandbox_env, "build", "--force",
                   extra={"PYVE_TEST_PAUSE_AT": "detect"})
    wait_for(project / ".pyve" / "paused-detect", holder)
    logs = [tmp_path / f"p{i}.err" for i in range(3)]
    purge = start(project, sandbox_env, "purge", stderr=logs[0])
    builds = [start(project, sandbox_env, "build", stderr=log) for log in logs[1:]]
    for log in logs:
        wait_for_text(log, WAITING)  # all four hold an fd on the old .pyve/lock
    holder.kill()
    holder.communicate(timeout=60)
    results = []
    for proc, log in zip([purge, *builds], logs, strict=True):
        out, _ = proc.communicate(timeout=300)
        results.append((proc.returncode, out, log.read_text()))
    _assert_clean(results)
    result = pyve("build")
    assert result.returncode == 0, result.output
    assert_whole(project, "venv")
    # every process used the same lock file in the end: no second .pyve/ anywhere
    assert (project / ".pyve" / "state.json").is_file()
