"""The remote cache in an S3 bucket (AWS S3, MinIO, any S3-compatible store), through boto3.

Credentials, region and endpoint come from AWS's own chain (AWS_* variables, ~/.aws/config,
AWS_ENDPOINT_URL); pyve adds none.

An entry's files are stored by content, `<prefix>/<key>/<sha256>/<name>`, and its index,
`<prefix>/<key>/index.json` ({name: object}), is uploaded last and read first: a half-written
entry is a miss. Two writers of one key (two runners building the same env at once) each
upload their own files, whose bytes differ (a tar of an env is never byte-identical across
builds), then their own index; each PUT is atomic, so whichever index wins names a complete,
matching set. One shared name per file would let one writer's archive meet the other's
manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyve import redact
from pyve.remotecache.artifact import sha256
from pyve.remotecache.store import StoreError

INDEX = "index.json"


class S3Store:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        rest = url[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise StoreError(f"remote_cache {redact.redact(url)}: names no bucket "
                             "(s3://bucket/prefix)")
        self.url = redact.redact(url)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.timeout = timeout
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # bounded: a store that is down or slow costs seconds, never the build
            config = Config(connect_timeout=self.timeout, read_timeout=self.timeout,
                            retries={"max_attempts": 2, "mode": "standard"})
            try:
                self._client = boto3.session.Session().client("s3", config=config)
            except Exception as exc:  # noqa: BLE001 - a bad ~/.aws/config, say
                raise self._error(exc) from None
        return self._client

    def _name(self, key: str, name: str = "") -> str:
        return "/".join(part for part in (self.prefix, key, name) if part)

    def _error(self, exc: BaseException) -> StoreError:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            why = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
        else:
            why = str(exc) or type(exc).__name__
        return StoreError(redact.one_line(redact.redact(f"{self.url}: {why}")))

    def _missing(self, exc: BaseException) -> bool:
        from botocore.exceptions import ClientError

        return isinstance(exc, ClientError) and str(
            exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")

    def get(self, key: str, dest: Path) -> dict[str, Path] | None:
        s3 = self._s3()
        try:
            answer = s3.get_object(Bucket=self.bucket, Key=self._name(key, INDEX))
            index = json.loads(answer["Body"].read())
        except Exception as exc:  # noqa: BLE001 - boto3 raises many kinds
            if self._missing(exc):
                return None
            if isinstance(exc, ValueError):  # not an index pyve wrote: nothing to trust
                raise StoreError(f"{self.url}: {key}/{INDEX} is not pyve's index") from None
            raise self._error(exc) from None
        files: dict[str, Path] = {}
        try:
            for name, stored in sorted(dict(index.get("files", {})).items()):
                if "/" in name or name in ("", ".", ".."):  # a name is a file in dest
                    raise StoreError(f"{self.url}: {key}/{INDEX} names {name!r}")
                s3.download_file(self.bucket, self._name(key, str(stored)), str(dest / name))
                files[name] = dest / name
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001
            if self._missing(exc):  # removed under us: a miss
                return None
            raise self._error(exc) from None
        return files

    def put(self, key: str, files: dict[str, Path]) -> None:
        s3 = self._s3()
        index = {name: f"{sha256(path)}/{name}" for name, path in files.items()}
        try:
            for name, stored in sorted(index.items()):
                s3.upload_file(str(files[name]), self.bucket, self._name(key, stored))
            s3.put_object(Bucket=self.bucket, Key=self._name(key, INDEX),  # the index last
                          Body=json.dumps({"files": index}, sort_keys=True).encode())
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None

    def keys(self) -> list[str]:
        s3 = self._s3()
        found: list[str] = []
        start = self._name("") + "/" if self.prefix else ""
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start)
            for page in pages:
                for item in page.get("Contents", []):
                    rest = item["Key"][len(start):]
                    key, _, name = rest.partition("/")
                    if name == INDEX:
                        found.append(key)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None
        return sorted(found)
