"""Where remote-cache entries live: the store protocol (open.py picks a store by its scheme).

An entry is a few plain files under one key. Each store keeps a reader from ever seeing a
half-written entry (its manifest is written last), and two writers of one key both succeed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class StoreError(Exception):
    """The store is unreachable, slow past the timeout, full, or refused the credentials.
    str(err) is ONE line, with no credentials in it (use pyve.redact)."""


class Store(Protocol):
    url: str  # as shown to users, credentials masked

    def get(self, key: str, dest: Path) -> dict[str, Path] | None:
        """Download entry `key`'s files into the existing folder `dest`: {name: path}.
        None when the key is absent (a miss). Raise StoreError on any store failure."""
        ...

    def put(self, key: str, files: dict[str, Path]) -> None:
        """Upload `files` (name -> local path) as entry `key`. A reader never sees a partial
        entry; two writers of one key at once both succeed (last write wins, both complete)."""
        ...

    def keys(self) -> list[str]:
        """The keys stored under this store's prefix/repository (for `pyve cache info`)."""
        ...
