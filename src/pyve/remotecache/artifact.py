"""A remote-cache entry's files: the env as a tar archive, pyve's records of it, and a
manifest (key, sha256 and size of each part, pyve's version) written last and read first.

A download is verified against its manifest before anything is unpacked, and every archive
member is checked as conda packages are (backends/conda/archives.py's rule): no absolute
path, no `..`, no link out of the env, nothing but files, folders and links. The env is
unpacked into a temporary folder beside its place and renamed in, so a failure leaves
nothing half-made."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import uuid
from pathlib import Path
from typing import Any

from pyve import __version__

MANIFEST = "manifest.json"
ENV_PART = "env.tar.gz"
RECORDS_PART = "records.json"
FORMAT = 1


class ArtifactError(Exception):
    """A download that does not match its manifest, or an archive member that is refused:
    one line; the build goes on as if the key missed."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _escapes(path: str) -> bool:
    return posixpath.isabs(path) or path.startswith("\\") or \
        posixpath.normpath(path).split("/")[0] == ".."


def pack(env: Path, key: str, records: dict[str, Any], work: Path) -> dict[str, Path]:
    """The entry's files, written into `work`. A link that leads out of the env (a venv's
    bin/python, to its base interpreter) is left out: the backend makes it again on restore
    (records["left_out"]: name -> link target)."""
    left_out: dict[str, str] = {}

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = info.name[2:] if info.name.startswith("./") else info.name
        if info.issym() and (posixpath.isabs(info.linkname) or _escapes(
                posixpath.join(posixpath.dirname(name), info.linkname))):
            left_out[name] = info.linkname
            return None
        if not (info.isfile() or info.isdir() or info.issym()):
            return None  # a socket or FIFO left behind in the env: not content
        if "__pycache__" in name.split("/"):  # made again on first import, and path-bound
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    archive = work / ENV_PART
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(env, arcname=".", filter=keep)
    records = {**records, "left_out": left_out}
    records_file = work / RECORDS_PART
    records_file.write_text(json.dumps(records, sort_keys=True), encoding="utf-8")
    parts = {name: {"sha256": sha256(path), "size": path.stat().st_size}
             for name, path in ((ENV_PART, archive), (RECORDS_PART, records_file))}
    manifest = work / MANIFEST
    manifest.write_text(json.dumps({"format": FORMAT, "key": key, "pyve": __version__,
                                    "parts": parts}, sort_keys=True, indent=1),
                        encoding="utf-8")
    return {ENV_PART: archive, RECORDS_PART: records_file, MANIFEST: manifest}


def verify(key: str, files: dict[str, Path]) -> dict[str, Any]:
    """The manifest, once every part matches it; else ArtifactError."""
    try:
        manifest = json.loads(files[MANIFEST].read_text(encoding="utf-8"))
        parts = manifest["parts"]
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            raise ArtifactError(f"its manifest is for another key or format "
                                f"({str(manifest.get('key'))[:40]})")
    except (KeyError, OSError, ValueError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"its manifest cannot be read: {exc}") from None
    for name in (ENV_PART, RECORDS_PART):
        want = parts.get(name) if isinstance(parts, dict) else None
        path = files.get(name)
        if not isinstance(want, dict) or path is None:
            raise ArtifactError(f"part {name} is missing")
        if path.stat().st_size != want.get("size"):
            raise ArtifactError(f"part {name} is {path.stat().st_size} bytes, its manifest "
                                f"says {want.get('size')} (truncated upload?)")
        if sha256(path) != want.get("sha256"):
            raise ArtifactError(f"part {name} does not match its manifest's sha256")
    return dict(manifest)


def records(files: dict[str, Path]) -> dict[str, Any]:
    try:
        data = json.loads(files[RECORDS_PART].read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"its records cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError("its records are not a table")
    return data


def check_member(info: tarfile.TarInfo) -> str | None:
    """Why a member may not be unpacked, or None."""
    name = info.name
    if _escapes(name):
        return f"member {name[:80]} is outside the environment"
    if info.issym() or info.islnk():
        target = info.linkname if info.islnk() else \
            posixpath.join(posixpath.dirname(name), info.linkname)
        if posixpath.isabs(info.linkname) or _escapes(target):
            return f"member {name[:80]} links out of the environment ({info.linkname[:80]})"
    elif not (info.isfile() or info.isdir()):
        return f"member {name[:80]} is not a file, folder or link"
    return None


def unpack(files: dict[str, Path], env: Path) -> None:
    """Unpack the env into `env` (which must not exist): into a folder beside it, each member
    checked before it is written (one pass: a gzip stream read twice costs twice), then
    renamed into place; a refused member leaves nothing but the removed staging folder."""
    staging = env.parent / f".{env.name}.restoring-{uuid.uuid4().hex[:8]}"
    env.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(files[ENV_PART], "r|gz") as tar:
            staging.mkdir()
            inside = os.path.realpath(staging)
            for info in tar:
                problem = check_member(info)
                if problem:
                    raise ArtifactError(problem)
                if info.isdir():
                    (staging / info.name).mkdir(parents=True, exist_ok=True)
                    continue
                target = staging / info.name
                target.parent.mkdir(parents=True, exist_ok=True)
                # never through a link: a member named under a link the archive made
                if not (os.path.realpath(target.parent) + os.sep).startswith(inside + os.sep):
                    raise ArtifactError(f"member {info.name[:80]} is written through a link")
                if info.issym():
                    os.symlink(info.linkname, target)
                elif info.islnk():
                    os.link(staging / info.linkname, target)
                else:
                    source = tar.extractfile(info)
                    assert source is not None
                    with open(target, "wb") as out:
                        shutil.copyfileobj(source, out, 1 << 20)
                    os.chmod(target, info.mode & 0o7777)
        os.rename(staging, env)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArtifactError(f"its archive cannot be unpacked: {exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
