"""Which PATH entries are an environment's own `bin` (an activated venv, or a pyve conda env).

Python discovery skips them: a venv must be built on a real interpreter, not on another
env's, which breaks when that env goes. And since nothing else a build decides reads them,
the fast path leaves them out of the PATH it compares, so a build made inside an activated
shell and a check made outside it (or the other way round) still agree.
Only `os` here: the fast path imports this.
"""

from __future__ import annotations

import os


def is_env_bin(directory: str) -> bool:
    parent = os.path.dirname(directory.rstrip("/"))
    if os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
        return True
    envs = os.path.dirname(parent)  # <project>/.pyve/envs/<hash>/bin
    return os.path.basename(envs) == "envs" and os.path.basename(os.path.dirname(envs)) == ".pyve"


def without_env_bins(path: str) -> str:
    return os.pathsep.join(d for d in path.split(os.pathsep) if d and not is_env_bin(d))


def refuse_path_separator(env_dir: str) -> None:
    """An environment whose path holds the PATH separator (':') cannot go on PATH: the entry
    splits in two and `pyve run python` finds the host's Python. CPython's venv refuses such
    a path too; this says so for both backends, before anything is made."""
    if os.pathsep in env_dir:
        from pyve.errors import PyveError

        raise PyveError(f"the environment path {env_dir} contains {os.pathsep!r}, the PATH "
                        "separator: its bin folder cannot be put on PATH",
                        hint=f"move or rename the project folder to a path without "
                             f"{os.pathsep!r}")
