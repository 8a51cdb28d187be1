"""The remote cache's parts that need no store: settings, the key, the artifact's manifest
and member checks, and the one line for a missing extra."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from pyve import remotecache
from pyve.remotecache import artifact
from pyve.remotecache.key import env_key
from pyve.remotecache.open import open_store
from pyve.remotecache.store import StoreError


def test_settings_variable_wins_and_empty_disables(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"remote_cache": "s3://team/envs", "remote_cache_push": False}
    monkeypatch.delenv(remotecache.URL_VAR, raising=False)
    monkeypatch.delenv(remotecache.PUSH_VAR, raising=False)
    assert remotecache.settings(config) == remotecache.Settings("s3://team/envs", False)
    monkeypatch.setenv(remotecache.URL_VAR, "oci://ghcr.io/team/envs")
    monkeypatch.setenv(remotecache.PUSH_VAR, "1")
    assert remotecache.settings(config) == remotecache.Settings("oci://ghcr.io/team/envs", True)
    monkeypatch.setenv(remotecache.URL_VAR, "")
    assert remotecache.settings(config) is None
    monkeypatch.setenv(remotecache.URL_VAR, "s3://b/p")
    monkeypatch.setenv(remotecache.PUSH_VAR, "0")
    assert remotecache.settings({}) == remotecache.Settings("s3://b/p", False)


@pytest.mark.parametrize("word", [" Yes ", "off", "maybe", ""])
def test_push_and_offline_switches_read_the_same_words(
        monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    """One spelling means the same for PYVE_OFFLINE and PYVE_REMOTE_CACHE_PUSH; a word that is
    neither yes nor no leaves pyve.toml's setting in charge."""
    from pyve import offline

    monkeypatch.setenv(remotecache.URL_VAR, "s3://b/p")
    monkeypatch.setenv(remotecache.PUSH_VAR, word)
    monkeypatch.setenv(offline.VARIABLE, word)
    on = word.strip().lower() == "yes"
    assert offline.is_offline() is on
    monkeypatch.delenv(offline.VARIABLE)
    got = remotecache.settings({"remote_cache_push": False})
    assert got is not None and got.push is on


def test_key_is_lowercase_hex_and_holds_the_interpreter() -> None:
    key, facts = env_key("f" * 32, "venv", sys.executable, None)
    assert len(key) == 32 and set(key) <= set("0123456789abcdef")
    assert facts["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert facts["python"]["cache_tag"] == sys.implementation.cache_tag
    assert facts["python"]["libc"] is not None and facts["platform"]
    assert env_key("f" * 32, "venv", sys.executable, None)[0] == key
    assert env_key("e" * 32, "venv", sys.executable, None)[0] != key
    assert env_key("f" * 32, "micromamba", sys.executable, None)[0] != key


def test_missing_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    with pytest.raises(StoreError) as err:
        open_store("s3://bucket/prefix")
    assert str(err.value) == ("remote_cache s3://bucket/prefix: needs the s3 extra: "
                              "pip install 'pyve-env[s3]'")
    with pytest.raises(StoreError, match="not a store pyve knows"):
        open_store("ftp://example.com/envs")


def _entry(tmp_path: Path, env: Path) -> dict[str, Path]:
    work = tmp_path / "work"
    work.mkdir()
    return artifact.pack(env, "ab12", {"records": {}}, work)


def test_pack_verify_unpack_round_trip(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "tool").write_text("#!/bin/sh\n")
    (env / "bin" / "tool").chmod(0o755)
    (env / "bin" / "tool3").symlink_to("tool")
    (env / "bin" / "python").symlink_to(sys.executable)  # out of the env: left out
    files = _entry(tmp_path, env)
    manifest = artifact.verify("ab12", files)
    assert manifest["pyve"] and set(manifest["parts"]) == {"env.tar.gz", "records.json"}
    assert artifact.records(files)["left_out"] == {"bin/python": sys.executable}
    artifact.unpack(files, tmp_path / "restored")
    restored = tmp_path / "restored" / "bin"
    assert (restored / "tool").read_text() == "#!/bin/sh\n"
    assert (restored / "tool").stat().st_mode & 0o100
    assert (restored / "tool3").readlink() == Path("tool")
    assert not (restored / "python").is_symlink()
    with pytest.raises(artifact.ArtifactError, match="another key"):
        artifact.verify("cd34", files)


def _archive_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> dict[str, Path]:
    env = tmp_path / "env"
    env.mkdir()
    files = _entry(tmp_path, env)
    with tarfile.open(files["env.tar.gz"], "w:gz") as tar:
        tar.addfile(member, io.BytesIO(data) if data else None)
    return files


@pytest.mark.parametrize("name,kind,link", [
    ("/etc/evil", tarfile.REGTYPE, ""),
    ("../evil", tarfile.REGTYPE, ""),
    ("lib/../../evil", tarfile.REGTYPE, ""),
    ("bin/out", tarfile.SYMTYPE, "/etc/passwd"),
    ("bin/out", tarfile.SYMTYPE, "../../etc/passwd"),
    ("bin/hard", tarfile.LNKTYPE, "../outside"),
    ("dev/null", tarfile.CHRTYPE, ""),
])
def test_members_out_of_the_env_are_refused(tmp_path: Path, name: str, kind: bytes,
                                            link: str) -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    data = b"x" if kind == tarfile.REGTYPE else b""
    member.size = len(data)
    files = _archive_with(tmp_path, member, data)
    with pytest.raises(artifact.ArtifactError):
        artifact.unpack(files, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    assert not (tmp_path / "evil").exists()


def test_a_member_written_through_a_link_is_refused(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.mkdir()
    files = _entry(tmp_path, env)
    outside = tmp_path / "outside"
    outside.mkdir()
    with tarfile.open(files["env.tar.gz"], "w:gz") as tar:
        link = tarfile.TarInfo("lib")
        link.type, link.linkname = tarfile.SYMTYPE, "."
        tar.addfile(link)
        # `lib` -> `.` stays inside; a later member through it is still inside: allowed
        item = tarfile.TarInfo("lib/ok")
        item.size = 1
        tar.addfile(item, io.BytesIO(b"y"))
    artifact.unpack(files, tmp_path / "restored")
    assert (tmp_path / "restored" / "ok").read_text() == "y"
    assert json.loads(files["manifest.json"].read_text())["key"] == "ab12"
