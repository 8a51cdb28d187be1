"""Real stores on 127.0.0.1 for the remote-cache tests: moto's S3 server (and, once the OCI
the CNCF distribution registry, tests/support/registry.py). One server per test session (per xdist
worker); each test gets a fresh bucket or repository, so tests never see each other's keys.

A test reaches a store only through `RemoteStore`: its URL, the environment a pyve process
needs (AWS's own chain: AWS_ENDPOINT_URL and keys), an environment for a store that is down,
and the raw entry files (to tamper with or truncate). Adding a kind of store is one entry in
STORE_KINDS and one `_start_*`/`RemoteStore` pair."""

from __future__ import annotations

import importlib.util
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

STORE_KINDS = ["s3", "oci"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RemoteStore:
    kind: str
    url: str
    env: dict[str, str]  # what a pyve process needs to reach it
    down_env: dict[str, str]  # the same store, unreachable (nothing listens there)
    read: Callable[[str, str], bytes]  # (key, name) -> the stored file
    write: Callable[[str, str, bytes], None]
    delete: Callable[[str, str], None]
    keys: Callable[[], list[str]]


S3_SECRET = "remote-cache-test-secret-0123456789"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        pytest.skip("moto[server] and boto3 are not installed (the test extra installs them)")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _s3_store(endpoint: str) -> RemoteStore:
    import boto3

    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    client: Any = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key=S3_SECRET)
    bucket, prefix = f"envs-{uuid.uuid4().hex[:10]}", "team/envs"
    client.create_bucket(Bucket=bucket)

    def index(key: str) -> dict[str, str]:
        body = client.get_object(Bucket=bucket, Key=f"{prefix}/{key}/index.json")["Body"]
        return dict(json.loads(body.read())["files"])

    def name(key: str, file: str) -> str:  # where the entry's index says the file is
        return f"{prefix}/{key}/{index(key)[file]}"

    def read(key: str, file: str) -> bytes:
        return bytes(client.get_object(Bucket=bucket, Key=name(key, file))["Body"].read())

    def write(key: str, file: str, data: bytes) -> None:  # the stored bytes changed in place
        client.put_object(Bucket=bucket, Key=name(key, file), Body=data)

    def delete(key: str, file: str) -> None:
        # pyve's manifest is read first: an entry without it is one whose push died before
        # its last object, the index
        gone = "index.json" if file == "manifest.json" else index(key)[file]
        client.delete_object(Bucket=bucket, Key=f"{prefix}/{key}/{gone}")

    def keys() -> list[str]:
        listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
        return sorted({item["Key"].split("/")[2] for item in listing.get("Contents", [])})

    down = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    return RemoteStore("s3", f"s3://{bucket}/{prefix}", env, down, read, write, delete, keys)


def _oci_store(host: str) -> RemoteStore:
    """Raw access through the store itself: an OCI entry is one manifest, so changing one
    file of it is pushing the entry again with that file changed (or left out)."""
    import tempfile
    from pathlib import Path

    from pyve.remotecache.oci import OciStore

    url = f"oci+http://{host}/team/envs-{uuid.uuid4().hex[:10]}"
    store = OciStore(url, timeout=10)

    def files(key: str) -> dict[str, bytes]:
        with tempfile.TemporaryDirectory() as tmp:
            got = store.get(key, Path(tmp)) or {}
            return {name: path.read_bytes() for name, path in got.items()}

    def put(key: str, contents: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for name, data in contents.items():
                (Path(tmp) / name).write_bytes(data)
                paths[name] = Path(tmp) / name
            store.put(key, paths)

    def read(key: str, file: str) -> bytes:
        return files(key)[file]

    def write(key: str, file: str, data: bytes) -> None:
        put(key, {**files(key), file: data})

    def delete(key: str, file: str) -> None:
        if file != "manifest.json":
            put(key, {name: data for name, data in files(key).items() if name != file})
            return
        # pyve's manifest is read first: an entry without it is one whose push died before
        # its OCI manifest (the tag) was written: the blobs stay, the tag goes
        import urllib.request

        repo = url.split("/", 3)[3]
        head = urllib.request.Request(
            f"http://{host}/v2/{repo}/manifests/{key}", method="HEAD",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(head, timeout=10) as answer:
            digest = answer.headers["Docker-Content-Digest"]
        gone = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{digest}",
                                      method="DELETE")
        urllib.request.urlopen(gone, timeout=10).close()

    down = f"oci+http://127.0.0.1:{free_port()}/team/envs"
    return RemoteStore("oci", url, {}, {"PYVE_REMOTE_CACHE": down}, read, write, delete,
                       store.keys)


@pytest.fixture(params=STORE_KINDS)
def remote_store(request: pytest.FixtureRequest) -> RemoteStore:
    """A fresh, empty entry space in a real store of each kind."""
    if request.param == "s3":
        return _s3_store(request.getfixturevalue("moto_server"))
    return _oci_store(request.getfixturevalue("oci_registry").host)
