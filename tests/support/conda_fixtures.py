"""Build a local conda channel of synthetic packages for offline tests.

Plain functions (no pytest) so any conftest can wrap them in a fixture:

- ``build_channel(dir)``: a channel with noarch and per-platform packages
  (``libfoo`` 1.0/2.0 on linux-64, osx-64, osx-arm64, win-64; ``foo-py`` noarch
  depends on ``libfoo >=1``; ``bar`` noarch depends on ``foo-py``; ``baz`` linux-64 only;
  ``needs-missing`` depends on a package that does not exist), indexed.
- ``add_host_python(channel_dir)``: ``python-<host X.Y.Z>-0_host`` (linux-64) that makes the
  prefix a venv of the host interpreter, and ``pip`` (noarch python) from ensurepip's wheel,
  with ``bin/pip`` as an entry point like conda-forge's.
- ``to_conda_format(archive)``: the same package as a ``.conda`` archive.
- ``tamper(channel_dir, subdir, file_name)``: rewrite an archive after indexing so its sha256
  no longer matches repodata.json.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import platform
import sys
import tarfile
import zipfile
from pathlib import Path

from rattler.index import index_fs

PLATFORMS = ("linux-64", "osx-64", "osx-arm64", "win-64")
# Fixed mtime: archives (and so their sha256) are reproducible across runs.
_MTIME = 1_700_000_000


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = _MTIME
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mtime = _MTIME
    tar.addfile(info)


def build_package(
    channel_dir: Path,
    subdir: str,
    name: str,
    version: str,
    build: str = "0",
    depends: list[str] | tuple[str, ...] = (),
    files: dict[str, bytes] | None = None,
    symlinks: dict[str, str] | None = None,
    noarch: str | None = None,
    entry_points: list[str] | tuple[str, ...] = (),
) -> Path:
    """Write ``<channel>/<subdir>/<name>-<version>-<build>.tar.bz2``; return its path.

    ``files`` are regular files (path -> content), ``symlinks`` path -> link target.
    ``entry_points`` (``"pip = pip._internal.cli.main:main"``) go to info/link.json, as in
    conda-forge's noarch: python packages; the installer writes them as ``bin/<name>``.
    """
    files = dict(files or {})
    symlinks = dict(symlinks or {})
    if not files and not symlinks:
        # Every package owns one file so installs are observable in the prefix.
        files = {f"share/{name}/{version}.txt": f"{name} {version}\n".encode()}
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(build.rsplit("_", 1)[0]) if build.rsplit("_", 1)[0].isdigit() else 0,
        "depends": list(depends),
        "subdir": subdir,
        "license": "MIT",
        "timestamp": _MTIME * 1000,
    }
    if noarch:
        index["noarch"] = noarch
    else:
        index["platform"], index["arch"] = _platform_arch(subdir)
    paths = [
        {"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(),
         "size_in_bytes": len(d)}
        for p, d in sorted(files.items())
    ] + [{"_path": p, "path_type": "softlink", **_softlink_info(p, files, symlinks)}
         for p in sorted(symlinks)]
    out_dir = channel_dir / subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{name}-{version}-{build}.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        _add_bytes(tar, "info/index.json", json.dumps(index, indent=2).encode())
        _add_bytes(tar, "info/paths.json",
                   json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode())
        _add_bytes(tar, "info/files", "".join(f"{p}\n" for p in sorted([*files, *symlinks]))
                   .encode())
        if entry_points:
            link = {"noarch": {"type": "python", "entry_points": list(entry_points)},
                    "package_metadata_version": 1}
            _add_bytes(tar, "info/link.json", json.dumps(link, indent=2).encode())
        for p, d in sorted(files.items()):
            _add_bytes(tar, p, d)
        for p, target in sorted(symlinks.items()):
            _add_symlink(tar, p, target)
    return archive


def _softlink_info(path: str, files: dict[str, bytes], symlinks: dict[str, str]) -> dict:
    """sha256 and size_in_bytes of what a softlink points to, as conda-build records them
    (micromamba rejects a package whose paths.json has a null size_in_bytes); a dangling link
    gets size 0 and the hash of its target text."""
    seen = set()
    while path in symlinks and path not in seen:
        seen.add(path)
        target = symlinks[path]
        path = target if os.path.isabs(target) else \
            os.path.normpath(os.path.join(os.path.dirname(path), target))
    if path in files:
        data = files[path]
    elif os.path.isabs(path) and os.path.isfile(path):
        data = Path(path).read_bytes()
    else:
        return {"sha256": hashlib.sha256(path.encode()).hexdigest(), "size_in_bytes": 0}
    return {"sha256": hashlib.sha256(data).hexdigest(), "size_in_bytes": len(data)}


def _platform_arch(subdir: str) -> tuple[str, str]:
    plat, _, arch = subdir.partition("-")
    return plat, {"64": "x86_64", "arm64": "arm64"}.get(arch, arch)


def reindex(channel_dir: Path, force: bool = False) -> None:
    """(Re)write repodata.json for every subdir; noarch/ must exist for rattler. `force`:
    read every archive again (by default an archive already listed keeps its entry)."""
    (channel_dir / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, force=force))


def build_channel(channel_dir: Path) -> Path:
    """Build and index the synthetic channel in ``channel_dir``; return it."""
    channel_dir = Path(channel_dir)
    for subdir in PLATFORMS:
        for version in ("1.0", "2.0"):
            build_package(channel_dir, subdir, "libfoo", version, build="h0_0")
    build_package(channel_dir, "noarch", "foo-py", "1.5", depends=["libfoo >=1"], noarch="generic")
    build_package(channel_dir, "noarch", "bar", "0.3", depends=["foo-py"], noarch="generic")
    build_package(channel_dir, "noarch", "bar", "0.4", depends=["foo-py", "libfoo >=2"],
                  noarch="generic")
    build_package(channel_dir, "linux-64", "baz", "1.10", depends=["libfoo 1.*"])
    build_package(channel_dir, "noarch", "needs-missing", "1.0", depends=["does-not-exist"],
                  noarch="generic")
    reindex(channel_dir)
    return channel_dir


def host_python_version() -> str:
    return platform.python_version()


def add_host_python(channel_dir: Path) -> Path:
    """Add ``python-<host>-0_host`` and ``pip`` to an existing channel; reindex; return it.

    The python package holds only pyvenv.cfg + symlinks to the host interpreter, so the
    prefix acts as a venv of it (sys.prefix is the env; pip installs into the env).
    Built at test time because the symlink is absolute. linux/macOS hosts only.
    """
    channel_dir = Path(channel_dir)
    version = host_python_version()
    xy = ".".join(version.split(".")[:2])
    real = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    cfg = (f"home = {os.path.dirname(real)}\ninclude-system-site-packages = false\n"
           f"version = {version}\n")
    build_package(
        channel_dir, "linux-64", "python", version, build="0_host",
        files={"pyvenv.cfg": cfg.encode(), f"lib/python{xy}/site-packages/.keep": b""},
        symlinks={"bin/python": real, "bin/python3": "python", f"bin/python{xy}": "python"},
    )
    _add_pip_package(channel_dir)
    reindex(channel_dir)
    return channel_dir


def _add_pip_package(channel_dir: Path) -> Path:
    """Repackage ensurepip's bundled pip wheel as a noarch:python conda package."""
    import ensurepip

    bundled = Path(ensurepip.__file__).parent / "_bundled"
    wheel = next(bundled.glob("pip-*.whl"))
    pip_version = wheel.name.split("-")[1]
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for item in zf.infolist():
            if not item.is_dir():
                # noarch: python packages keep files under site-packages/; rattler
                # relocates them to lib/pythonX.Y/site-packages at link time.
                files[f"site-packages/{item.filename}"] = zf.read(item)
    # conda-forge's pip declares these entry points: the env gets its own bin/pip, so
    # `micromamba run pip` and `conda-lock install` never fall through to the host's pip.
    return build_package(channel_dir, "noarch", "pip", pip_version, build="py_0",
                         depends=["python >=3.7"], files=files, noarch="python",
                         entry_points=["pip = pip._internal.cli.main:main",
                                       "pip3 = pip._internal.cli.main:main"])


def tamper(channel_dir: Path, subdir: str, file_name: str) -> Path:
    """Rewrite an archive in place (valid package, different bytes) without reindexing."""
    archive = Path(channel_dir) / subdir / file_name
    with tarfile.open(archive, "r:bz2") as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None)
                   for m in src.getmembers()]
    with tarfile.open(archive, "w:bz2") as dst:
        for member, data in members:
            if data is not None and not member.name.startswith("info/"):
                data = data + b"# tampered\n"
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return archive


def copy_channel(src: Path, dst: Path) -> Path:
    """Copy a built channel (e.g. before tampering with it); return the copy."""
    import shutil

    shutil.copytree(src, dst)
    return dst


def add_python_stubs(channel_dir: Path, subdirs: list[str] | tuple[str, ...]) -> Path:
    """Add a stub ``python-<host X.Y.Z>-0_stub`` to each of ``subdirs`` (non-host platforms),
    so that envs with ``python``/``pip`` solve for them in multi-platform locks; reindex.

    The stubs hold one text file: they are for solving and locking, never for running.
    """
    channel_dir = Path(channel_dir)
    version = host_python_version()
    for subdir in subdirs:
        build_package(channel_dir, subdir, "python", version, build="0_stub")
    reindex(channel_dir)
    return channel_dir


def to_conda_format(archive: Path) -> Path:
    """Rewrite a ``.tar.bz2`` package as a ``.conda`` one next to it (a zip holding
    metadata.json and the info/ and pkg/ parts as tar.zst members); remove the original.
    The members are copied as they are, hostile names included."""
    import zstandard

    stem = archive.name.removesuffix(".tar.bz2")
    parts: dict[str, io.BytesIO] = {"info": io.BytesIO(), "pkg": io.BytesIO()}
    with tarfile.open(archive, "r:bz2") as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None)
                   for m in src.getmembers()]
    for section, buffer in parts.items():
        with tarfile.open(fileobj=buffer, mode="w") as dst:
            for member, data in members:
                if member.name.startswith("info/") == (section == "info"):
                    dst.addfile(member, io.BytesIO(data) if data is not None else None)
    out = archive.with_name(f"{stem}.conda")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        for section, buffer in parts.items():
            zf.writestr(f"{section}-{stem}.tar.zst",
                        zstandard.ZstdCompressor().compress(buffer.getvalue()))
    archive.unlink()
    return out
