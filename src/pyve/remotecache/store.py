"""Where remote-cache entries live: the store protocol, and the scheme -> store choice.

An entry is a few plain files under one key. Each store keeps a reader from ever seeing a
half-written entry (its manifest is written last), and two writers of one key both succeed.
The scheme's module (and its client library, an optional extra) is imported only when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pyve import redact


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


SCHEMES = ("s3://", "oci://", "oci+http://")


def open_store(url: str, *, timeout: float = 10.0) -> Store:
    """s3://bucket/prefix -> remotecache.s3.S3Store(url, timeout=...);
    oci://host/repo and oci+http://host:port/repo -> remotecache.oci.OciStore(url, timeout=...).
    The scheme's module is imported lazily; if its extra (boto3 / oras) is not installed,
    raise StoreError naming the extra to install."""
    shown = redact.redact(url)
    if url.startswith("s3://"):
        extra, client = "s3", "boto3"
    elif url.startswith(("oci://", "oci+http://")):
        extra, client = "oci", "oras"
    else:
        raise StoreError(f"remote_cache {shown}: not a store pyve knows "
                         "(s3://bucket/prefix, oci://host/repo, oci+http://host:port/repo)")
    try:
        __import__(client)
    except ImportError:
        raise StoreError(f"remote_cache {shown}: needs the {extra} extra: "
                         f"pip install 'pyve-env[{extra}]'") from None
    if extra == "s3":
        from pyve.remotecache.s3 import S3Store

        return S3Store(url, timeout=timeout)
    from pyve.remotecache.oci import OciStore

    return OciStore(url, timeout=timeout)
