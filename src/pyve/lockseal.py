"""The content digest pyve writes into its own locks (requirements.lock.txt, conda-lock.yml):
one line, `<prefix>sha256=<hex>`, over the lock's text without that line.

A lock is the lock stage's output, but it is committed and read back (--frozen installs it,
the conda backend solves from it): an edit made outside pyve must read as one, never as a
fresh lock. The digest travels with the file, so a fresh clone or CI sees an edit as well as
the machine that wrote it. It detects edits, it does not sign: whoever recomputes it on
purpose is not stopped (that is what review of the committed lock is for).
"""

from __future__ import annotations

import hashlib

PLACEHOLDER = "sha256=" + "0" * 64  # written first, then replaced by the digest
SEALED, CHANGED, UNSEALED = "sealed", "changed", "unsealed"


def _split(text: str, prefix: str) -> tuple[str, str] | None:
    """(the text without the seal line, the seal's value), or None: no seal line."""
    start = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(prefix):
            value = line.lstrip()[len(prefix):].strip().strip("'\"")
            return text[:start] + text[start + len(line):], value
        start += len(line)
    return None


def digest(text: str) -> str:
    """`sha256=<hex>` of the text's UTF-8 bytes."""
    return "sha256=" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(text: str, prefix: str) -> str:
    """`text`, holding one `<prefix>PLACEHOLDER` line, with the digest in its place."""
    found = _split(text, prefix)
    assert found is not None and found[1] == PLACEHOLDER, "no seal placeholder to fill"
    return text.replace(prefix + PLACEHOLDER, prefix + digest(found[0]), 1)


def state(text: str, prefix: str) -> str:
    """SEALED (the text is what pyve wrote), CHANGED (edited since), or UNSEALED (no seal
    line: written by an older pyve or another tool, so it cannot be told)."""
    found = _split(text, prefix)
    if found is None:
        return UNSEALED
    return SEALED if found[1] == digest(found[0]) else CHANGED
