"""Output modes: plain lines (no escape codes) on pipes and in CI, colour only when asked
for on a terminal, --quiet (errors only), --verbose (commands and reasons)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyveRunner

ESC = "\x1b["


def raw(project: Path, sandbox_env: dict[str, str], *args: str,
        **extra: str) -> subprocess.CompletedProcess[str]:
    """Run pyve through a pipe with NO_COLOR removed (the sandbox sets it)."""
    env = {k: v for k, v in sandbox_env.items() if k != "NO_COLOR"}
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "pyve", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def reqs(project: Path) -> Path:
    (project / "requirements.txt").write_text("alpha\n")
    return project


def test_ci_pipe_has_no_escape_codes(reqs: Path, sandbox_env: dict[str, str]) -> None:
    for args in (("init", "--yes"), ("status",), ("doctor",), ("build", "--force"),
                 ("build", "--backend", "nope")):
        done = raw(reqs, sandbox_env, *args, CI="1")
        assert ESC not in done.stdout + done.stderr, args
    # even with a terminal forced, CI means plain
    done = raw(reqs, sandbox_env, "build", "--backend", "nope", CI="1", FORCE_COLOR="1")
    assert ESC not in done.stderr and "error:" in done.stderr


def test_plain_pipe_without_ci(reqs: Path, sandbox_env: dict[str, str]) -> None:
    done = raw(reqs, sandbox_env, "init", "--yes")
    assert done.returncode == 0 and ESC not in done.stdout + done.stderr


def test_error_red_with_hint_on_next_line(reqs: Path, sandbox_env: dict[str, str]) -> None:
    done = raw(reqs, sandbox_env, "run", "python", FORCE_COLOR="1")  # no env yet
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert "\x1b[31m" in lines[0] and "error:" in lines[0]
    assert "hint:" in lines[1] and "pyve init" in lines[1]


def test_quiet_prints_errors_only(reqs: Path, pyve: PyveRunner) -> None:
    result = pyve("-q", "init", "--yes", check=True)
    assert result.stdout == "" and result.stderr == ""
    assert pyve("-q", "build", check=True).stdout == ""
    assert pyve("-q", "doctor", check=True).stdout == ""
    bad = pyve("-q", "build", "--backend", "nope")
    assert bad.returncode == 2 and "invalid backend" in bad.stderr


def test_verbose_shows_commands_and_reasons(reqs: Path, pyve: PyveRunner) -> None:
    pyve("init", "--yes", check=True)
    (reqs / "requirements.txt").write_text("alpha\nbeta\n")
    quiet_run = pyve("build", check=True)
    (reqs / "requirements.txt").write_text("alpha\ngamma\n")
    loud = pyve("-v", "build", check=True)
    assert "pip-deps: running (requirements.txt changed)" in loud.stdout
    assert "$ " in loud.stdout and "pip" in loud.stdout  # the command it ran
    assert "$ " not in quiet_run.stdout


@pytest.mark.parametrize("args", [("build", "--force"), ("build",), ("status",)])
def test_a_reader_that_goes_away_is_no_crash(reqs: Path, sandbox_env: dict[str, str],
                                             args: tuple[str, ...]) -> None:
    """`pyve build | head -1`: the pipe closes after the first line. pyve says nothing more
    (no "internal error", no crash log), as a tool ended by SIGPIPE; the build itself is
    whole, so the next build has nothing to do. (`build` alone is the fast path.)"""
    assert raw(reqs, sandbox_env, "init", "--yes").returncode == 0
    env = {k: v for k, v in sandbox_env.items() if k != "NO_COLOR"}
    proc = subprocess.Popen([sys.executable, "-m", "pyve", *args], cwd=reqs, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert "BrokenPipe" not in stderr and "Exception ignored" not in stderr, stderr
    again = raw(reqs, sandbox_env, "build")
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout


def test_init_whose_reader_goes_away_still_initialises_whole(reqs: Path,
                                                             sandbox_env: dict[str, str]) -> None:
    """`pyve init | head -1`: the reader leaves after the first line. init used to stop
    there, half-made (pyve.toml written, no env) with exit 1; now what is said is dropped and
    init finishes its work, as with its output sent to a file."""
    proc = subprocess.Popen([sys.executable, "-m", "pyve", "init", "--yes"], cwd=reqs,
                            env=sandbox_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert (reqs / "requirements.lock.txt").is_file() and (reqs / ".venv").is_dir()
    again = raw(reqs, sandbox_env, "build")
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout
