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
