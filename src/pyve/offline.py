"""`--offline` (or PYVE_OFFLINE=1): no network at all. cli.py sets the variable, so every
layer, and every process pyve starts, reads one answer: the remote cache is not looked at,
uv installs from its cache only (UV_OFFLINE), pip from find-links only, no Python is
downloaded, and a conda build solves from the channel index rattler cached (however old, as
micromamba --offline does) and links what its package cache holds, naming in one line what
either lacks."""

from __future__ import annotations

import os

from pyve.words import switch

VARIABLE = "PYVE_OFFLINE"


def is_offline() -> bool:
    return switch(os.environ.get(VARIABLE)) is True

