"""A conda package is checked before an engine links it: every path it says it installs
must stay inside the environment.

py-rattler aborts the whole process (a Rust panic: exit 134 and a backtrace, nothing Python
can catch) when a package's info/paths.json names an absolute path, and tries to copy `..`
paths from outside its cache to outside the env. So pyve reads that list first, with
py-rattler's own reader (`.tar.bz2` and `.conda` alike; it stops once it has the list), and
refuses a package that fails, in one line that names it. An old package without
paths.json lists its files in info/files, which the engines read instead: so does pyve.

Member names and links inside the archive are left to the extractor, which strips a leading
`/`, skips `..` members and refuses to write through a link (one error naming the package).
py-rattler's streaming PackageArchive is not used: a process that had used it crashed at
exit (abort or segfault, about 1 run in 4, py-rattler 0.28).
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from collections.abc import Sequence
from pathlib import Path

from rattler.exceptions import ExtractError
from rattler.package import PathsJson

from pyve.errors import PyveError, first_line

PATHS_JSON = "info/paths.json"
FILES = "info/files"  # the list before paths.json (conda-build 2); engines fall back to it

Package = tuple[str, Path | None, Path | None]  # file name, local archive, extracted copy


def check(packages: Sequence[Package]) -> None:
    """Refuse the first package whose archive (a local file) or, failing that, its extracted
    copy in the package cache names a path outside the environment. A package from an
    http(s) channel is read from its copy: engines/rattler_cache.py fetches it into the cache
    first."""
    for file_name, archive, extracted in packages:
        if archive is not None and archive.is_file():
            paths = _archive_paths(archive)
        elif extracted is not None and (extracted / "info").is_dir():
            paths = _extracted_paths(extracted)
        else:
            continue
        problem = paths if isinstance(paths, str) else next(
            (f"it installs a path outside the environment: {p}" for p in paths if _escapes(p)),
            None)
        if problem:
            raise PyveError(f"package {file_name} is malformed: {problem}",
                            hint="refusing to install it; remove it from the channel (or tell "
                                 "its maintainers), then run the build again")


def _archive_paths(archive: Path) -> list[str] | str:
    """The paths the package installs, or why they cannot be read."""
    try:
        return [str(entry.relative_path)
                for entry in PathsJson.from_package_archive(archive).paths]
    except (ExtractError, OSError) as exc:
        why = first_line(exc)
    if archive.name.endswith(".tar.bz2"):  # an old package: no paths.json, info/files
        return _old_style_paths(archive)
    return f"cannot read {PATHS_JSON}: {why}"


def _old_style_paths(archive: Path) -> list[str] | str:
    try:
        with tarfile.open(archive, "r|bz2") as tar:
            for member in tar:
                if member.name == FILES and member.isfile():
                    data = tar.extractfile(member)
                    return _lines(data.read() if data else b"")
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"cannot read it: {first_line(exc)}"
    return []  # nothing listed: nothing is linked


def _extracted_paths(extracted: Path) -> list[str] | str:
    try:
        if (extracted / PATHS_JSON).is_file():
            data = json.loads((extracted / PATHS_JSON).read_bytes())
            return [str(entry["_path"]) for entry in data["paths"]]
        return _lines((extracted / FILES).read_bytes()) if (extracted / FILES).is_file() else []
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return f"cannot read its list of files: {first_line(exc)}"


def _lines(data: bytes) -> list[str]:
    return [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]


def _drive(path: str) -> bool:
    return len(path) > 1 and path[0].isalpha() and path[1] == ":" and path[2:3] in ("", "/", "\\")


def _escapes(path: str) -> bool:
    """Absolute (also a Windows drive or share), or climbing out with `..`."""
    if posixpath.isabs(path) or path.startswith("\\") or _drive(path):
        return True
    return posixpath.normpath(path).split("/")[0] == ".."
