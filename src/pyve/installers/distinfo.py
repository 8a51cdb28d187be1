"""The core metadata of an installed distribution, headers only.

`importlib.metadata` parses a whole METADATA file with the email parser, the long description
included, and parses it again for each of `.metadata`, `.version` and `.requires`. A build
reads every package's metadata twice (prune, then the lock): on a real 180-package env that
was about a second of each cold build and of each one-line change. The headers end at the
first blank line (the core metadata spec puts the description after it), so only they are
parsed, once per package.
"""

from __future__ import annotations

from email.message import Message
from email.parser import HeaderParser
from typing import Any


def headers(dist: Any) -> Message:
    """The metadata headers of `dist` (an importlib.metadata Distribution): `Name`,
    `Version`, `Requires-Dist` (get_all), ... as `dist.metadata` gives them."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    return HeaderParser().parsestr(head)
