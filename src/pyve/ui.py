"""Terminal output and prompts. Decisions never print; commands print through here."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape

# Bound once to the real streams: doit swaps sys.stdout while an action runs.
_out: Console | None = None
_err: Console | None = None
quiet = False
verbose = False
asked = 0  # prompts answered in this process: a prompted decision gets no fast-path snapshot


def _plain() -> bool:
    return bool(os.environ.get("CI")) or bool(os.environ.get("NO_COLOR"))


def _console(stream: TextIO) -> Console:
    # CI / NO_COLOR: no escape codes at all (no bold or dim either), even where a terminal
    # is forced (FORCE_COLOR) -- logs stay plain lines. rich itself drops them on a pipe.
    plain = _plain()
    return Console(file=stream, highlight=False, soft_wrap=True, no_color=plain,
                   color_system=None if plain else "auto")


def out() -> Console:
    global _out
    if _out is None:
        _out = _console(sys.stdout)
    return _out


def err() -> Console:
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
    err().print(f"[red]error:[/red] {escape(message)}")
    if hint:
        err().print(f"  [dim]hint:[/dim] {escape(hint)}")


def is_ci() -> bool:
    return bool(os.environ.get("CI"))


def ask_yes_no(question: str, default: bool) -> bool:
    """Ask on stdout, read stdin (terminal or not). Enter -> default; end of input -> default."""
    global asked
    asked += 1
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
