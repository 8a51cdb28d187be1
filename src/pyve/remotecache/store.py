"""The store protocol of the remote cache, and the URL -> store dispatch."""

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

    def put(self, key: str, files: dict[str, Path]) -> None:
        """Upload `files` (name -> local path) as entry `key`. A reader never sees a partial
        entry; two writers of one key at once both succeed (last write wins, both complete)."""

    def keys(self) -> list[str]:
        """The keys stored under this store's prefix/repository (for `pyve cache info`)."""


def open_store(url: str, *, timeout: float = 10.0) -> Store:
    """s3://bucket/prefix -> S3Store; oci://host/repo and oci+http://host:port/repo -> OciStore.
    The scheme's module is imported lazily: its extra may not be installed."""
    from pyve.redact import redact
    if url.startswith("s3://"):
        try:
            from pyve.remotecache.s3 import S3Store  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError:
            raise StoreError(f"remote_cache {redact(url)}: needs the s3 extra: "
                             "pip install 'pyve-env[s3]'") from None
        return S3Store(url, timeout=timeout)
    if url.startswith(("oci://", "oci+http://")):
        try:
            from pyve.remotecache.oci import OciStore
        except ImportError:
            raise StoreError(f"remote_cache {redact(url)}: needs the oci extra: "
                             "pip install 'pyve-env[oci]'") from None
        return OciStore(url, timeout=timeout)
    raise StoreError(f"remote_cache {redact(url)}: unknown scheme; use s3://, oci:// or oci+http://")
