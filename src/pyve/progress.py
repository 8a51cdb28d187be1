"""What a person sees while a stage runs.

On a terminal: one live line (rich) naming the running stage, the time so far and what its
installer is doing ("installing 37 packages: flask, pandas, ..."), erased when the stage ends
so the usual `ran 3.5s (reason)` line takes its place. Elsewhere (CI, pipes, NO_COLOR): a
plain `pip-deps: started` line and, for a stage that runs long, a heartbeat line at most
every 30 s, so a log shows where a build hangs. Both go where the stage lines go (`ui.out()`:
stdout, or stderr under `--json` and `pyve run`), so stderr keeps only errors.

Only the full path loads this module (the fast path never runs a stage), and rich only on a
terminal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyve import testing_hooks, ui

HEARTBEAT_SECONDS = 30.0

_current: _Live | _Plain | None = None


def start(name: str) -> None:
    """A stage started: show it until `stop()` (the next stage's start stops it too)."""
    global _current
    stop()
    if ui.quiet:
        return
    _current = _Live(name) if ui._styled() else _Plain(name)


def update(activity: str) -> None:
    """What the running stage is doing now, in a few words (a no-op when none runs)."""
    current = _current
    if current is not None:
        current.update(activity)


def stop() -> None:
    """End the live line (cursor shown again, nothing left half-drawn) or the heartbeat."""
    global _current
    current, _current = _current, None
    if current is not None:
        current.stop()


def follow(result: Any) -> None:
    """A graph.Reporter callback: a "running" result starts the display, any other ends it."""
    if result.status == "running":
        start(result.name)
    else:
        stop()


@contextmanager
def session() -> Iterator[None]:
    """Around a graph run: whatever ends it (an error, Ctrl-C), no live line outlives it."""
    try:
        yield
    finally:
        stop()


def duration(seconds: float) -> str:
    """45s, 1m30s, 1h02m."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def heartbeat_seconds() -> float:
    try:
        value = float(testing_hooks.heartbeat_seconds() or HEARTBEAT_SECONDS)
    except ValueError:
        return HEARTBEAT_SECONDS
    return value if value >= 0.05 else HEARTBEAT_SECONDS


class _Live:
    """rich's Progress, one task: spinner, stage name, elapsed time, activity."""

    def __init__(self, name: str) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(), TextColumn("{task.fields[activity]}", markup=False, style="dim"),
            console=ui.out(), transient=True,  # type: ignore[arg-type]
            # doit and pyve bind their own streams: leave sys.stdout/sys.stderr alone
            redirect_stdout=False, redirect_stderr=False)
        self.task = self.progress.add_task(f"{name:<11}", total=None, activity="")
        self.progress.start()

    def update(self, activity: str) -> None:
        self.progress.update(self.task, activity=activity)

    def stop(self) -> None:
        self.progress.stop()


class _Plain:
    """A start line, then a heartbeat line from a daemon thread until the stage ends."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.activity = ""
        self.started = time.monotonic()
        if not ui.verbose:  # -v already said "<stage>: running (<reasons>)"
            self._say(f"  {name}: started")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(heartbeat_seconds(),),
                                        name="pyve-heartbeat", daemon=True)
        self._thread.start()

    def _say(self, text: str) -> None:
        ui.out().print(ui.escape(text))  # one write and a flush: whole lines in a log

    def _beat(self, interval: float) -> None:
        while not self._done.wait(interval):
            doing = f" ({self.activity})" if self.activity else ""
            try:
                self._say(f"  {self.name}: still running, "
                          f"{duration(time.monotonic() - self.started)}{doing}")
            except (OSError, ValueError):  # the reader went away (`| head`): the main
                return  # thread meets that on its next line; no traceback from this one

    def update(self, activity: str) -> None:
        self.activity = activity

    def stop(self) -> None:
        self._done.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
