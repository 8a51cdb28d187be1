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


def test_the_interpreter_is_asked_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from pyve.remotecache import key

    monkeypatch.setattr(key, "_ASKED", {})
    calls: list[object] = []
    real_run = subprocess.run

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real_run(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(key.subprocess, "run", counting)
    first = env_key("f" * 32, "venv", sys.executable, None)
    again = env_key("f" * 32, "venv", sys.executable, None)  # the push after a miss
    assert first == again and len(calls) == 1
    assert env_key("e" * 32, "venv", sys.executable, None)[0] != first[0]  # fingerprint anew


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


def _archive(tmp_path: Path, members: list[tuple[str, bytes, str, bytes]]) -> dict[str, Path]:
    """An entry whose archive holds `members`: (name, tar type, link target, data)."""
    env = tmp_path / "env"
    env.mkdir()
    files = _entry(tmp_path, env)
    with tarfile.open(files["env.tar.gz"], "w:gz") as tar:
        for name, kind, link, data in members:
            member = tarfile.TarInfo(name)
            member.type, member.linkname, member.size = kind, link, len(data)
            member.mode = 0o644
            tar.addfile(member, io.BytesIO(data) if data else None)
    return files


def test_a_chain_of_inside_links_that_leads_out_is_not_written_through(tmp_path: Path) -> None:
    # each link's name and target pass the name checks; together d/l/l2 is the env's parent
    files = _archive(tmp_path, [
        ("d", tarfile.DIRTYPE, "", b""),
        ("d/l", tarfile.SYMTYPE, "..", b""),
        ("d/l/l2", tarfile.SYMTYPE, "..", b""),
        ("d/l/l2/evil", tarfile.REGTYPE, "", b"x"),
    ])
    with pytest.raises(artifact.ArtifactError, match="through a link"):
        artifact.unpack(files, tmp_path / "restored")
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "restored").exists()


def test_a_file_over_a_link_of_the_same_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("keep")
    files = _archive(tmp_path, [
        ("d", tarfile.DIRTYPE, "", b""),
        ("d/l", tarfile.SYMTYPE, "..", b""),
        ("d/l/out", tarfile.SYMTYPE, "../outside", b""),  # lexically d/outside: inside
        ("d/l/out", tarfile.REGTYPE, "", b"overwritten"),
    ])
    with pytest.raises(artifact.ArtifactError):
        artifact.unpack(files, tmp_path / "restored")
    assert (tmp_path / "outside").read_text() == "keep"
    assert not (tmp_path / "restored").exists()


def test_hard_links_name_only_files_of_the_archive(tmp_path: Path) -> None:
    files = _archive(tmp_path, [
        ("a", tarfile.REGTYPE, "", b"same"),
        ("b", tarfile.LNKTYPE, "a", b""),
    ])
    artifact.unpack(files, tmp_path / "restored")
    restored = tmp_path / "restored"
    assert (restored / "b").read_text() == "same"
    assert (restored / "a").stat().st_ino == (restored / "b").stat().st_ino
    (tmp_path / "env").rename(tmp_path / "env-1")
    (tmp_path / "work").rename(tmp_path / "work-1")
    files = _archive(tmp_path, [
        ("s", tarfile.SYMTYPE, "a", b""),  # a link, not a file: its target could be anywhere
        ("h", tarfile.LNKTYPE, "s", b""),
    ])
    with pytest.raises(artifact.ArtifactError, match="hard link to no file"):
        artifact.unpack(files, tmp_path / "restored-2")
    assert not (tmp_path / "restored-2").exists()


def test_many_files_keep_their_bytes_and_modes(tmp_path: Path) -> None:
    env = tmp_path / "env"
    for i in range(300):
        folder = env / f"pkg{i % 7}" / "sub"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i}.py").write_bytes(bytes([i % 256]) * (i * 37))
    (env / "big.so").write_bytes(b"z" * (3 << 20))  # more than one copy buffer
    (env / "pkg0" / "run").write_text("#!/bin/sh\n")
    (env / "pkg0" / "run").chmod(0o750)
    files = _entry(tmp_path, env)
    artifact.unpack(files, tmp_path / "restored")
    restored = tmp_path / "restored"
    for i in range(300):
        path = restored / f"pkg{i % 7}" / "sub" / f"m{i}.py"
        assert path.read_bytes() == bytes([i % 256]) * (i * 37)
    assert (restored / "big.so").read_bytes() == b"z" * (3 << 20)
    assert (restored / "pkg0" / "run").stat().st_mode & 0o7777 == 0o750
