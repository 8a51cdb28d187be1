"""Every switch a test can reach inside pyve, in one place (CONTRIBUTING.md lists them).

Production code calls these functions; each is inert unless its `PYVE_*` variable is set,
and none is for users. Imported by the fast path too, so this module imports only the
standard library's lightest modules (not even pathlib).
"""

from __future__ import annotations

import os
import time

PAUSE_AT = "PYVE_TEST_PAUSE_AT"
HEARTBEAT_ENV = "PYVE_HEARTBEAT_SECONDS"
NO_FAST = "PYVE_NO_FAST"
DEFAULT_CHANNEL = "PYVE_DEFAULT_CHANNEL"
SWITCHES = (PAUSE_AT, HEARTBEAT_ENV, NO_FAST, DEFAULT_CHANNEL)


def pause(stage: str, when: str) -> None:
    """TEST-ONLY hook (tests/e2e/test_interrupts.py), inert unless PYVE_TEST_PAUSE_AT is set.

    PYVE_TEST_PAUSE_AT=<stage>[:after] writes `.pyve/paused-<stage>` before (or after) that
    stage's action and then waits until the test deletes that file, so a test can send
    SIGKILL/SIGINT, or edit an input, at a known point instead of racing a sleep. Never set
    it outside tests.
    """
    spec = os.environ.get(PAUSE_AT)
    if not spec:
        return
    name, _, point = spec.partition(":")
    if name != stage or (point or "before") != when:
        return
    flag = os.path.join(".pyve", f"paused-{stage}")  # cwd is the project root (in_dir)
    try:  # a signal may come as soon as the file exists, before the write returns
        with open(flag, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        while os.path.exists(flag):
            time.sleep(0.05)
    finally:  # SIGINT: leave no trace (SIGKILL leaves the flag: harmless, inside .pyve/)
        try:
            os.unlink(flag)
        except FileNotFoundError:
            pass


def pause_at_point(point: str = "discard") -> None:
    """TEST-ONLY (tests/e2e/test_interrupts.py), through the same hook as a stage:
    PYVE_TEST_PAUSE_AT=discard stops fsutil.discard() after the rename and before the delete;
    PYVE_TEST_PAUSE_AT=write-<name> stops a write of <name> after its temp file is written
    and before the rename."""
    if os.environ.get(PAUSE_AT) == point:
        pause(point, "before")


def heartbeat_seconds() -> str | None:
    """PYVE_HEARTBEAT_SECONDS: a running stage's heartbeat every N seconds instead of 30
    (progress.py checks the value)."""
    return os.environ.get(HEARTBEAT_ENV)


def fast_path_off() -> bool:
    """PYVE_NO_FAST: every command takes the full path (tests compare it with the fast one)."""
    return bool(os.environ.get(NO_FAST))


def default_channel() -> str | None:
    """PYVE_DEFAULT_CHANNEL: the channel of the environment.yml `pyve init` writes, instead of
    conda-forge (a local channel in the tests)."""
    return os.environ.get(DEFAULT_CHANNEL) or None
