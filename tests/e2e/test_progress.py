"""What a person sees while a stage runs (issue 15): on a pseudo-terminal a live line that
names the stage and changes while it runs, erased for the stage's `ran` line, and gone
cleanly on Ctrl-C; in CI a plain start line and heartbeat lines, no escape codes.

Stages are made to take seconds deterministically: a local project whose in-tree build
backend sleeps (pip's own output then feeds the live line), or graph.py's test-only
PYVE_TEST_PAUSE_AT hook (the stage waits until the test deletes `.pyve/paused-<stage>`)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import write_tiny_project
from tests.support.conda_helpers import python_env
from tests.support.faults import setup, start, wait_for

SHOW_CURSOR, HIDE_CURSOR = "\x1b[?25h", "\x1b[?25l"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# a live rendering: "<spinner> pip-deps    0:00:02 building tiny"
LIVE = re.compile(r"^(\S) ([a-z-]+) +(\d:\d\d:\d\d) ?(.*)$", re.MULTILINE)


def slow_pip_project(project: Path, seconds: float = 1.5) -> None:
    """requirements.txt names a local project whose wheel takes `seconds` to build."""
    write_tiny_project(project / "slow")
    backend = project / "slow" / "_backend" / "tinybackend.py"
    backend.write_text(backend.read_text().replace(
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n",
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        f"    import time; time.sleep({seconds})\n"))
    (project / "requirements.txt").write_text("./slow\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')


def terminal_env(sandbox_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in sandbox_env.items() if k != "NO_COLOR"}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "120", **extra}


def on_pty(project: Path, env: dict[str, str], *args: str,
           while_running: Callable[[subprocess.Popen[bytes], str], bool] | None = None,
           timeout: float = 180) -> tuple[int, str]:
    """Run `pyve ARGS` with stdout and stderr on a pseudo-terminal (120x30), reading the
    master side as it comes; `while_running(proc, text so far)` is called after each read
    and may stop calling by returning True. Returns (exit code, everything written)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "pyve", *args], cwd=project, env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    watching = while_running is not None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            if watching and while_running is not None:
                watching = not while_running(proc, b"".join(chunks).decode(errors="replace"))
        else:
            proc.kill()
            raise AssertionError("pyve on the pty timed out:\n"
                                 + b"".join(chunks).decode(errors="replace"))
    finally:
        os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


def renderings(text: str, stage: str) -> list[tuple[str, str, str]]:
    """(spinner, elapsed, activity) of every live line of `stage` drawn before its `ran`.
    rich erases the line (ESC[2K) before each new drawing: a new line here."""
    lines = ANSI.sub(lambda m: "\n" if m.group(0) == "\x1b[2K" else "", text)
    done = re.search(rf"\n +{stage} +(ran|failed) ", lines)
    before = lines[: done.start()] if done else lines
    return [(m.group(1), m.group(3), m.group(4).strip()) for m in LIVE.finditer(before)
            if m.group(2) == stage]


def plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r", "")


def assert_cursor_restored(text: str) -> None:
    assert HIDE_CURSOR in text, text  # the live line was drawn
    assert text.rindex(SHOW_CURSOR) > text.rindex(HIDE_CURSOR), text


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_terminal_shows_the_running_pip_stage_live(project: Path, sandbox_env: dict[str, str],
                                                   installer: str) -> None:
    slow_pip_project(project)
    code, text = on_pty(project, terminal_env(sandbox_env, PYVE_INSTALLER=installer), "build")
    assert code == 0, text
    seen = renderings(text, "pip-deps")
    assert len(set(seen)) >= 3, text  # the screen changes while the stage runs
    assert len({elapsed for _, elapsed, _ in seen}) >= 2, seen  # the clock ticks
    activities = {activity for _, _, activity in seen}
    # the installer's own lines feed it. What is on screen during the 1.5 s build is drawn
    # for sure: pip calls build_wheel for the metadata while it says "collecting slow" (its
    # "building tiny" then reuses that wheel and may last less than a frame); uv says
    # "building tiny". Later, quicker lines may not be drawn.
    wanted = "collecting slow (1 so far)" if installer == "pip" else "building tiny"
    assert wanted in activities, seen
    # the live line is replaced by the usual line, and the cursor is shown again
    assert re.search(r"\n  pip-deps +ran +\d+\.\ds", plain(text)), text
    assert_cursor_restored(text)


def test_terminal_shows_the_conda_stage_live(project: Path, sandbox_env: dict[str, str],
                                             local_channel: Path) -> None:
    python_env(project, local_channel, pip=[])
    flag = project / ".pyve" / "paused-create-env"
    paused_at: list[float] = []

    def hold(proc: subprocess.Popen[bytes], text: str) -> bool:
        """Keep the stage (its packages linked) running for 1.5 s, then let it finish."""
        if proc.poll() is not None:
            return True
        if flag.exists() and not paused_at:
            paused_at.append(time.monotonic())
        if paused_at and time.monotonic() - paused_at[0] > 1.5:
            flag.unlink()
            return True
        return False

    code, text = on_pty(project, terminal_env(sandbox_env, PYVE_BACKEND="micromamba",
                                              PYVE_TEST_PAUSE_AT="create-env:after"),
                        "build", while_running=hold)
    assert code == 0, text
    assert paused_at, text
    solving = {activity for _, _, activity in renderings(text, "conda-solve")}
    assert any(a.startswith("solving ") for a in solving), text
    seen = renderings(text, "create-env")
    assert len({elapsed for _, elapsed, _ in seen}) >= 2, seen  # the clock ticks
    assert any(re.match(r"linking \S+ \(\d+/\d+ linked\)", a) for _, _, a in seen), seen
    assert re.search(r"\n  create-env +ran +\d+\.\ds", plain(text)), text
    assert_cursor_restored(text)


def test_ctrl_c_on_a_terminal_leaves_no_live_line(project: Path,
                                                  sandbox_env: dict[str, str]) -> None:
    setup(project, "venv")
    flag = project / ".pyve" / "paused-pip-deps"

    def interrupt(proc: subprocess.Popen[bytes], text: str) -> bool:
        if flag.exists() and renderings(text, "pip-deps"):  # drawn, and the stage waits
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            return True
        return proc.poll() is not None

    code, text = on_pty(project, terminal_env(sandbox_env, PYVE_TEST_PAUSE_AT="pip-deps"),
                        "build", while_running=interrupt)
    assert code == 130, text
    assert_cursor_restored(text)
    tail = text[text.rindex(HIDE_CURSOR):]
    assert "\r\x1b[2K" in tail, repr(tail)  # the live line was erased, then the last words
    last = plain(text).strip().splitlines()[-1]
    assert last == "interrupted; the next `pyve build` repairs what was left unfinished", tail
    assert "Traceback" not in text


def _ci_build(project: Path, sandbox_env: dict[str, str], stage: str, *args: str,
              hold: float = 0.8, **extra: str) -> tuple[int, str, str]:
    """`pyve build ARGS` with CI set, a 0.2 s heartbeat, `stage` held `hold` seconds."""
    proc = start(project, sandbox_env, "build", *args,
                 extra={"CI": "1", "PYVE_HEARTBEAT_SECONDS": "0.2",
                        "PYVE_TEST_PAUSE_AT": stage, **extra})
    flag = project / ".pyve" / f"paused-{stage.split(':')[0]}"
    wait_for(flag, proc)
    time.sleep(hold)
    flag.unlink()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _assert_plain(out: str, err: str) -> None:
    assert "\x1b" not in out + err and "\r" not in out + err, repr(out + err)


def test_ci_log_says_when_a_stage_starts_and_that_it_still_runs(
        project: Path, sandbox_env: dict[str, str]) -> None:
    setup(project, "venv")
    code, out, err = _ci_build(project, sandbox_env, "pip-deps")
    assert code == 0, out + err
    _assert_plain(out, err)
    lines = out.splitlines()
    start_at = lines.index("  pip-deps: started")
    beats = [i for i, ln in enumerate(lines) if ln.startswith("  pip-deps: still running, 0s")]
    ran_at = next(i for i, ln in enumerate(lines) if ln.startswith("  pip-deps ")
                  and " ran " in ln)
    assert len(beats) >= 2 and start_at < beats[0] and beats[-1] < ran_at, out
    assert "  detect: started" in lines and "  create-env: started" in lines, out
    assert err == "", err  # stderr keeps errors only

    # --json: stdout is the one document; what is said for people goes to stderr
    (project / "requirements.txt").write_text("beta\ngamma\n")
    code, out, err = _ci_build(project, sandbox_env, "pip-deps", "--json", hold=0.5)
    assert code == 0, out + err
    _assert_plain(out, err)
    assert json.loads(out)["ok"] is True
    assert "  pip-deps: started" in err.splitlines(), err
    assert "  pip-deps: still running, 0s" in err, err


def test_ci_log_heartbeat_of_a_conda_stage(project: Path, sandbox_env: dict[str, str],
                                           local_channel: Path) -> None:
    python_env(project, local_channel, pip=[])
    code, out, err = _ci_build(project, sandbox_env, "create-env:after",
                               PYVE_BACKEND="micromamba")
    assert code == 0, out + err
    _assert_plain(out, err)
    lines = out.splitlines()
    assert "  conda-solve: started" in lines and "  create-env: started" in lines, out
    beats = [ln for ln in lines if ln.startswith("  create-env: still running, 0s (linking ")]
    assert beats, out
