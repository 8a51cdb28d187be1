"""The command line's global flags and the lines a no-op build prints, declared once: cli.py
builds argparse from them, and fastpath.py (which must not import argparse, doit or rich)
reads argv and writes its answer with the same ones. Adding a global flag here adds it to
both; a flag the fast path does not know makes it hand over to the full path."""

from __future__ import annotations

# Global flags: `pyve -q build` and `pyve build -q` (cli.py gives every command them).
QUIET = ("-q", "--quiet")
VERBOSE = ("-v", "--verbose")
DEBUG = ("--debug",)
YES = ("-y", "--yes")
OFFLINE = ("--offline",)
# (dest, spellings, help); none of them changes what a build decides (--offline only what
# it may reach: a no-op build reaches nothing). --yes only answers
# questions, and the fast path answers only for a build that asked none (a recorded answer,
# or one file of each kind), so it is harmless there too.
SWITCHES = (
    ("quiet", QUIET, "print errors only"),
    ("verbose", VERBOSE, "show commands pyve runs"),
    ("debug", DEBUG, "show tracebacks"),
    ("yes", YES, "accept every default, no prompts (every command takes it)"),
    ("offline", OFFLINE, "no network at all (remote cache, indexes, channels): only what the "
                         "local caches hold"),
)
GLOBAL_SWITCHES = tuple(spelling for _, spellings, _ in SWITCHES for spelling in spellings)
DIRECTORY = "-C"  # takes a value: run as if started in DIR
DIRECTORY_HELP = ("run as if pyve was started in DIR (the project is the nearest folder "
                  "with pyve.toml, else with a project file, from there up)")

# `pyve build`'s own flags whose answer the fast path gives from its snapshot
FAST_BUILD_FLAGS = ("--json", "--check", "--dry-run")

# The lines of a build (and of the fast path's answer for a no-op one).
STAGE_WIDTH = 11  # `  create-env  up to date`
NOTHING_TO_DO = "Nothing to do: every stage is up to date."
CHECK_UP_TO_DATE = "Up to date: every stage."
ENVIRONMENT = "Environment: {}"


def stage_line(name: str, status: str) -> str:
    return f"  {name:<{STAGE_WIDTH}} {status}"


# The words a PYVE_* switch variable reads as on or off (case and spaces ignored), shared by
# PYVE_OFFLINE and PYVE_REMOTE_CACHE_PUSH so one spelling means the same in both.
ON_WORDS = ("1", "true", "yes", "on")
OFF_WORDS = ("0", "false", "no", "off")


def switch(value: str | None) -> bool | None:
    """A switch variable's value as True or False; None when unset, empty or neither word."""
    word = (value or "").strip().lower()
    return True if word in ON_WORDS else False if word in OFF_WORDS else None
