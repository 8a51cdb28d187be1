"""The display off a terminal: a start line, heartbeat lines with the time and what the
stage is doing, nothing after the stage ends; and nothing at all with --quiet."""

from __future__ import annotations

import io
import time

import pytest

from pyve import progress, testing_hooks, ui


@pytest.fixture
def plain_out(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    out = io.StringIO()
    monkeypatch.setenv("CI", "1")
    monkeypatch.setattr(ui, "_out", ui.PlainConsole(out))
    monkeypatch.setattr(ui, "quiet", False)
    monkeypatch.setattr(ui, "verbose", False)
    return out


def test_start_line_and_heartbeat(plain_out: io.StringIO,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(testing_hooks.HEARTBEAT_ENV, "0.1")
    with progress.session():
        progress.start("pip-deps")
        progress.update("installing 3 packages: a, b, c")
        time.sleep(0.35)
    lines = plain_out.getvalue().splitlines()
    assert lines[0] == "  pip-deps: started"
    assert len(lines) >= 3, lines
    assert set(lines[1:]) == {"  pip-deps: still running, 0s (installing 3 packages: a, b, c)"}
    time.sleep(0.25)  # stopped: no more beats
    assert len(plain_out.getvalue().splitlines()) == len(lines)


def test_quiet_says_nothing(plain_out: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "quiet", True)
    monkeypatch.setenv(testing_hooks.HEARTBEAT_ENV, "0.05")
    progress.start("pip-deps")
    time.sleep(0.15)
    progress.stop()
    assert plain_out.getvalue() == ""


def test_durations_and_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [progress.duration(s) for s in (0.4, 59.9, 90, 3599, 3720)] == \
        ["0s", "59s", "1m30s", "59m59s", "1h02m"]
    for value, expected in (("", 30.0), ("0.5", 0.5), ("junk", 30.0), ("0", 30.0)):
        monkeypatch.setenv(testing_hooks.HEARTBEAT_ENV, value)
        assert progress.heartbeat_seconds() == expected


def test_a_prompt_ends_the_live_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompts come before the graph runs; should one ever come while a stage is live, the
    live line is stopped first (cursor shown), so the question stands alone."""
    from rich.console import Console

    screen = io.StringIO()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr(ui, "_out", Console(file=screen, force_terminal=True))
    monkeypatch.setattr(ui, "quiet", False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # end of input: the default
    monkeypatch.setattr("sys.stdout", io.StringIO())
    progress.start("pip-deps")
    assert isinstance(progress._current, progress._Live)
    assert ui.ask_yes_no("Go on?", default=True) is True
    assert progress._current is None
    drawn = screen.getvalue()
    assert "pip-deps" in drawn and drawn.rindex("\x1b[?25h") > drawn.rindex("\x1b[?25l")
