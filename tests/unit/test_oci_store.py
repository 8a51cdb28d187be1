"""The OCI store against a real distribution registry on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from pathlib import Path

import pytest

from pyve.remotecache.open import open_store
from pyve.remotecache.store import StoreError
from tests.support.registry import PASSWORD, USER, Registry, oci_registry, oci_registry_with_auth

pytest.importorskip("oras")
from pyve.remotecache.oci import OciStore  # noqa: E402

__all__ = ["oci_registry", "oci_registry_with_auth"]  # fixtures used by name

KEY = "0123abcd-env"


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


def entry_files(folder: Path, size: int = 5 * 1024 * 1024) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text('{"k": 1}')
    (folder / "env.tar.zst").write_bytes(os.urandom(size))
    return {"manifest.json": folder / "manifest.json", "env.tar.zst": folder / "env.tar.zst"}


def test_put_then_get_gives_back_every_file(oci_registry: Registry, tmp_path: Path,
                                            no_docker_config: None) -> None:
    store = open_store(oci_registry.url("team/roundtrip"))
    files = entry_files(tmp_path / "src")
    store.put(KEY, files)
    dest = tmp_path / "dest"
    dest.mkdir()
    got = store.get(KEY, dest)
    assert got == {"manifest.json": dest / "manifest.json", "env.tar.zst": dest / "env.tar.zst"}
    for name, path in files.items():
        assert got[name].read_bytes() == path.read_bytes()


def test_an_absent_key_is_a_miss(oci_registry: Registry, tmp_path: Path,
                                 no_docker_config: None) -> None:
    store = open_store(oci_registry.url("team/miss"))
    assert store.get("feedbeef", tmp_path) is None  # no repository at all
    store.put(KEY, entry_files(tmp_path / "src", size=10))
    assert store.get("feedbeef", tmp_path) is None  # repository, not that tag


def test_keys_lists_the_tags(oci_registry: Registry, tmp_path: Path,
                             no_docker_config: None) -> None:
    store = open_store(oci_registry.url("team/keys"))
    assert store.keys() == []
    files = entry_files(tmp_path / "src", size=10)
    store.put("bbb-2", files)
    store.put("aaa-1", files)
    assert store.keys() == ["aaa-1", "bbb-2"]


def test_blobs_without_a_manifest_are_a_miss(oci_registry: Registry, tmp_path: Path,
                                             no_docker_config: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = OciStore(oci_registry.url("team/half"))

    def dies(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the writer is killed before the tag is written

    monkeypatch.setattr(store._client, "upload_manifest", dies)
    with pytest.raises(KeyboardInterrupt):
        store.put(KEY, entry_files(tmp_path / "src", size=1000))
    assert store.get(KEY, tmp_path) is None
    assert store.keys() == []


def test_two_puts_of_one_key_at_once_both_succeed(oci_registry: Registry, tmp_path: Path,
                                                  no_docker_config: None) -> None:
    url = oci_registry.url("team/race")
    errors: list[BaseException] = []

    def put(n: int) -> None:
        try:
            open_store(url).put(KEY, entry_files(tmp_path / f"src{n}", size=3 * 1024 * 1024))
        except BaseException as err:  # noqa: BLE001 - reported by the assert below
            errors.append(err)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    dest = tmp_path / "dest"
    dest.mkdir()
    got = open_store(url).get(KEY, dest)
    assert got is not None
    assert got["env.tar.zst"].read_bytes() in (
        (tmp_path / "src0" / "env.tar.zst").read_bytes(),
        (tmp_path / "src1" / "env.tar.zst").read_bytes())


def test_a_dead_registry_is_one_store_error_line(tmp_path: Path, no_docker_config: None) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = open_store(f"oci+http://127.0.0.1:{port}/team/envs", timeout=2)
    for call in (lambda: store.get(KEY, tmp_path), lambda: store.keys(),
                 lambda: store.put(KEY, entry_files(tmp_path / "src", size=10))):
        with pytest.raises(StoreError) as err:
            call()
        assert "\n" not in str(err.value) and "cannot connect" in str(err.value)


def test_a_silent_registry_fails_within_the_timeout(tmp_path: Path,
                                                    no_docker_config: None) -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        store = open_store(f"oci+http://127.0.0.1:{port}/team/envs", timeout=0.5)
        with pytest.raises(StoreError, match="no answer within 0.5 s"):
            store.get(KEY, tmp_path)


def test_credentials_come_from_docker_config_and_are_never_shown(
        oci_registry_with_auth: Registry, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = oci_registry_with_auth.url("team/private")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    with pytest.raises(StoreError) as err:
        open_store(url).keys()
    assert PASSWORD not in str(err.value)
    docker = tmp_path / "docker"
    docker.mkdir()
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps(
        {"auths": {oci_registry_with_auth.host: {"auth": token}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    store = open_store(url)
    store.put(KEY, entry_files(tmp_path / "src", size=10))
    assert store.keys() == [KEY]
    assert store.get(KEY, tmp_path) is not None
    assert PASSWORD not in store.url
    wrong = base64.b64encode(f"{USER}:not-{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps(
        {"auths": {oci_registry_with_auth.host: {"auth": wrong}}}))
    with pytest.raises(StoreError) as err:
        open_store(url).get(KEY, tmp_path)
    assert "refused the credentials" in str(err.value) and "\n" not in str(err.value)
    assert PASSWORD not in str(err.value) and wrong not in str(err.value)
