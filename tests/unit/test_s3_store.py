"""The S3 store against moto's real S3 server on 127.0.0.1: two writers of one key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyve.remotecache.open import open_store
from tests.support.remote_stores import RemoteStore, _s3_store

KEY = "0123abcd-env"


def _entry(folder: Path, tag: str) -> dict[str, Path]:
    folder.mkdir(parents=True)
    files = {"env.tar.gz": folder / "env.tar.gz", "manifest.json": folder / "manifest.json"}
    files["env.tar.gz"].write_bytes(tag.encode() * 1000)
    files["manifest.json"].write_text(f'{{"env": "{tag}"}}')
    return files


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> RemoteStore:
    store = _s3_store(moto_server)
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    return store


def test_two_writers_interleaved_leave_one_whole_entry(s3: RemoteStore, tmp_path: Path) -> None:
    """Writer A uploads its archive, writer B then writes its whole entry, A finishes: what a
    reader gets is one writer's archive with that writer's manifest, never a mix."""
    first, second = open_store(s3.url), open_store(s3.url)
    a, b = _entry(tmp_path / "a", "A"), _entry(tmp_path / "b", "B")
    client: Any = first._s3()  # type: ignore[attr-defined]
    upload = client.upload_file
    calls = []

    def upload_then_let_b_write(*args: Any, **kwargs: Any) -> None:
        upload(*args, **kwargs)
        calls.append(args)
        if len(calls) == 1:
            second.put(KEY, b)

    client.upload_file = upload_then_let_b_write
    first.put(KEY, a)
    dest = tmp_path / "dest"
    dest.mkdir()
    got = first.get(KEY, dest)
    assert got is not None and set(got) == {"env.tar.gz", "manifest.json"}
    tag = got["manifest.json"].read_text()[9]
    assert got["env.tar.gz"].read_bytes() == tag.encode() * 1000
    assert s3.keys() == [KEY]


def test_an_index_naming_a_file_outside_the_folder_is_refused(s3: RemoteStore,
                                                               tmp_path: Path) -> None:
    from pyve.remotecache.store import StoreError

    store = open_store(s3.url)
    store.put(KEY, _entry(tmp_path / "a", "A"))
    client: Any = store._s3()  # type: ignore[attr-defined]
    bucket, prefix = s3.url[5:].split("/", 1)
    client.put_object(Bucket=bucket, Key=f"{prefix}/{KEY}/index.json",
                      Body=b'{"files": {"../x": "y"}}')
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(StoreError, match="index.json names '../x'"):
        store.get(KEY, dest)
    assert not (tmp_path / "x").exists()
