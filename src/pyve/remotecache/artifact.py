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
        # a whole second: a float mtime costs each member a pax header, twice the headers
        # to parse on restore (which sets no mtime anyway)
        info.mtime = int(info.mtime)
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
    renamed into place; a refused member leaves nothing but the removed staging folder.

    Each folder is made once, and only a member under a link the archive made pays for a
    realpath: one under no such link lies, by the name checks alone, in a real folder of the
    staging tree (which holds nothing the archive did not make). A file is opened O_EXCL, so
    it never lands over an earlier member or through a link of its own name; a hard link may
    name only a file of the archive. (Writer threads were measured and paid nothing: creating
    the files is the kernel's time, not Python's.)"""
    staging = env.parent / f".{env.name}.restoring-{uuid.uuid4().hex[:8]}"
    env.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(files[ENV_PART], "r|gz") as tar:
            staging.mkdir()
            inside = os.path.realpath(staging) + os.sep
            root = str(staging) + os.sep
            folders: set[str] = {""}  # made (or the staging folder itself)
            links: set[str] = set()  # symlinks the archive made
            regular: set[str] = set()  # files, the only targets a hard link may name
            for info in tar:
                problem = check_member(info)
                if problem:
                    raise ArtifactError(problem)
                name = posixpath.normpath(info.name)
                if name == ".":
                    continue
                parent = posixpath.dirname(name)
                if _under_link(parent, links) and not (
                        os.path.realpath(root + parent) + os.sep).startswith(inside):
                    raise ArtifactError(f"member {info.name[:80]} is written through a link")
                if parent not in folders:
                    os.makedirs(root + parent, exist_ok=True)
                    folders.update(_ancestors(parent))
                target = root + name
                if info.isdir():
                    if name not in folders:
                        os.mkdir(target)
                        folders.add(name)
                elif info.issym():
                    os.symlink(info.linkname, target)
                    links.add(name)
                elif info.islnk():
                    source = posixpath.normpath(info.linkname)
                    if source not in regular:
                        raise ArtifactError(f"member {info.name[:80]} is a hard link to "
                                            f"no file of the archive ({info.linkname[:80]})")
                    os.link(root + source, target, follow_symlinks=False)
                else:
                    regular.add(name)
                    stream = tar.extractfile(info)
                    assert stream is not None
                    mode = info.mode & 0o7777
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                                 | os.O_CLOEXEC, mode)
                    with open(fd, "wb", closefd=True) as out:
                        shutil.copyfileobj(stream, out, 1 << 20)
                        os.fchmod(out.fileno(), mode)  # exactly, past the umask
        os.rename(staging, env)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArtifactError(f"its archive cannot be unpacked: {exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _ancestors(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _under_link(folder: str, links: set[str]) -> bool:
    return bool(links) and any(up in links for up in _ancestors(folder))
