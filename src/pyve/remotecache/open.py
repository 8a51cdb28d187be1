"""The scheme -> store choice: s3:// and oci:// URLs to their store, each imported only when
used (its client library is an optional extra). Apart from store.py, which the stores import
for the protocol and StoreError, so that no import closes a loop."""

from __future__ import annotations

from pyve import redact
from pyve.remotecache.store import Store, StoreError

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
