"""Terminal output and prompts. Decisions never print; commands print through here."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

# Bound once to the real streams: doit swaps sys.stdout while an action runs.
_out: Console | PlainConsole | None = None
_err: Console | PlainConsole | None = None
quiet = False
verbose = False
json_output = False  # --json: stdout is the one JSON document; what is said for people -> stderr
asked = 0  # prompts answered in this process: a prompted decision gets no fast-path snapshot


def _plain() -> bool:
    return bool(os.environ.get("CI")) or bool(os.environ.get("NO_COLOR"))


def _styled() -> bool:
    """rich only where it can show something: a terminal, colours allowed. Elsewhere plain
    lines -- and no rich import, which costs more than a whole no-op build."""
    if _plain():
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty() and sys.stderr.isatty()


# The markup pyve itself writes: [bold], [red], [/red], ... (never user text: that is escaped).
_TAG = re.compile(r"(?<!\\)\[/?(?:bold|dim|red|green|yellow|cyan|blue|magenta)\]")
_ESCAPABLE = re.compile(r"\[(?=[a-z#/@])")


def escape(text: str) -> str:
    """Make user text print literally (rich's escape where rich prints)."""
    if _styled():
        from rich.markup import escape as rich_escape

        return rich_escape(text)
    return _ESCAPABLE.sub(r"\\[", text)


class PlainConsole:
    """The part of rich.Console pyve uses, for pipes, CI and NO_COLOR: markup dropped."""

    def __init__(self, stream: TextIO) -> None:
        self.file = stream

    def print(self, text: str = "", *_args: Any, **_kwargs: Any) -> None:
        self.file.write(_TAG.sub("", str(text)).replace("\\[", "[") + "\n")
        self.file.flush()


class _ReaderMayLeave:
    """A stream whose reader may go away (`pyve init | head -1`): from then on what is
    written is dropped, and the command goes on to finish its work whole, as it would with
    the output sent to a file. (Stopping half-way would leave a half-made project.)"""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def _leave(self) -> None:
        self.gone = True
        try:  # Python flushes the stream again at exit: let that flush reach /dev/null
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding ... as the stream's
        return getattr(self._stream, name)


def _console(stream: TextIO) -> Console | PlainConsole:
    stream = _ReaderMayLeave(stream)  # type: ignore[assignment]
    if not _styled():
        return PlainConsole(stream)
    from rich.console import Console

    return Console(file=stream, highlight=False, soft_wrap=True, color_system="auto")


def out() -> Console | PlainConsole:
    global _out
    if _out is None:
        _out = _console(sys.stderr if json_output else sys.stdout)
    return _out


def err() -> Console | PlainConsole:
    global _err
    if _err is None:
        _err = _console(sys.stderr)
    return _err


def reset() -> None:
    """Forget bound consoles (tests re-bind stdout/stderr)."""
    global _out, _err
    _out = _err = None


def say(text: str) -> None:
    if not quiet:
        out().print(text)


def info(text: str) -> None:
    """Plain text that must not be taken as markup (paths, package names)."""
    if not quiet:
        out().print(escape(text))


def detail(text: str) -> None:
    if verbose and not quiet:
        out().print(escape(text), style="dim")


def error(message: str, hint: str | None = None) -> None:
    """One line (+ a hint line), bounded, secrets masked, whatever produced the text."""
    from pyve.redact import MAX_LINE, one_line

    # the cap is the whole line's, its "error: " included
    err().print(f"[red]error:[/red] {escape(one_line(message, MAX_LINE - len('error: ')))}")
    if hint:
        err().print(f"  [dim]hint:[/dim] {escape(one_line(hint, MAX_LINE - len('  hint: ')))}")


def is_ci() -> bool:
    return bool(os.environ.get("CI"))


def ask_yes_no(question: str, default: bool) -> bool:
    """Ask on stdout, read stdin (terminal or not). Enter -> default; end of input -> default."""
    global asked
    asked += 1
    live = sys.modules.get("pyve.progress")  # prompts come before the graph; never both
    if live is not None:
        live.stop()
    suffix = "[Y/n]" if default else "[y/N]"
    while True:
        sys.stdout.write(f"{question} {suffix}: ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:  # end of input: the documented default, said on its own line
            sys.stdout.write("\n")
            return default
        answer = line.strip().lower()
        if answer == "":
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        sys.stdout.write("Please answer y or n.\n")


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover
