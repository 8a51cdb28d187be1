"""The conda backend's checks behind `pyve doctor` (health.py has the Check type and the
checks every backend shares): the env against conda-lock.yml, pip over conda packages' files,
each conda package's files as installed, the lock fresh, disk shared with the package cache."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyve.backends.conda.lockfile import lock_packages
from pyve.health import ERROR, OK, REPAIR, WARN, Check, changed_packages
from pyve.installers import pip
from pyve.redact import without_credentials
from pyve.ui import human


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def conda_matches_lock(lock: dict[str, Any], lock_name: str, prefix: Path,
                       platform: str, by_hand: Iterable[str] = ()) -> Check:
    """The lock's conda packages for this platform are exactly the installed ones (but
    those installed by hand, `by_hand`'s conda:NAME), and its pip packages are installed at
    the locked versions."""
    # compared without credentials: neither the lock nor the env's records keep them
    locked = {without_credentials(str(e["url"])) for e in lock_packages(lock, platform, "conda")}
    installed = set()
    mine = {name.removeprefix("conda:") for name in by_hand if name.startswith("conda:")}
    for meta in (prefix / "conda-meta").glob("*.json"):
        data = _load_json(meta)
        if isinstance(data, dict) and data.get("url") and data.get("name") not in mine:
            installed.add(without_credentials(str(data["url"])))
    diffs = [f"{_pkg(u)} not installed" for u in sorted(locked - installed)]
    diffs += [f"{_pkg(u)} installed, not locked" for u in sorted(installed - locked)]
    pins = {pip.canonical_name(e["name"]): (e["name"], str(e["version"]))
            for e in lock_packages(lock, platform, "pip")}
    in_env = pip.installed_distributions(prefix / "bin" / "python")
    found = {pip.canonical_name(n): (n, v) for n, v in in_env}
    pip_check = _compare("lock", lock_name, pins, found, extra_matters=False)
    if diffs:
        more = f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""
        return Check("lock", ERROR, f"environment differs from {lock_name}: "
                     + "; ".join(diffs[:3]) + more,
                     "`pyve build --force` reinstalls from the lock")
    if pip_check.status != OK:
        return pip_check
    return Check("lock", OK, f"environment matches {lock_name} for {platform} "
                 f"({len(locked)} conda + {len(pins)} pip packages)")


def _compare(name: str, lock_name: str, pins: dict[str, tuple[str, str]],
             found: dict[str, tuple[str, str]], extra_matters: bool) -> Check:
    diffs = []
    for key, (shown, version) in sorted(pins.items()):
        if key not in found:
            diffs.append(f"{shown} {version} not installed")
        elif found[key][1] != version:
            diffs.append(f"{shown} {found[key][1]} installed, {version} locked")
    if extra_matters:
        diffs += [f"{shown} {v} installed, not locked"
                  for key, (shown, v) in sorted(found.items()) if key not in pins]
    if diffs:
        more = f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""
        return Check(name, ERROR, f"environment differs from {lock_name}: "
                     + "; ".join(diffs[:3]) + more,
                     "`pyve build --force` reinstalls from the files; to keep another "
                     "version, write it in the files, then `pyve build` (the lock follows "
                     "the files, not the env)")
    return Check(name, OK, f"environment matches {lock_name} ({len(pins)} packages)")


def _pkg(url: str) -> str:
    return url.rsplit("/", 1)[-1].removesuffix(".tar.bz2").removesuffix(".conda")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def conda_files(prefix: Path) -> dict[str, tuple[str | None, str]]:
    """Every file a conda package installed: path (relative to the prefix) -> (sha256 as
    installed, package name)."""
    owned: dict[str, tuple[str | None, str]] = {}
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        data = _load_json(meta)
        if not isinstance(data, dict) or "files" not in data:
            continue
        shas: dict[str, str | None] = {}
        for entry in (data.get("paths_data") or {}).get("paths") or []:
            # a file whose prefix placeholder was rewritten differs from the package's sha256
            if entry.get("sha256_in_prefix"):
                shas[entry["_path"]] = entry["sha256_in_prefix"]
            elif entry.get("prefix_placeholder") or entry.get("path_type") == "softlink":
                shas[entry["_path"]] = None
            else:
                shas[entry["_path"]] = entry.get("sha256")
        for name in data.get("files") or []:
            owned[name] = (shas.get(name), str(data.get("name", meta.stem)))
    return owned


def _pip_records(prefix: Path) -> dict[str, Path]:
    """Every file a pip install lists in a RECORD: path (relative to the prefix) -> RECORD."""
    listed: dict[str, Path] = {}
    for record in sorted(prefix.glob("lib/python*/site-packages/*.dist-info/RECORD")):
        site = record.parent.parent
        try:
            rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        for row in rows:
            if row and row[0]:
                listed[os.path.relpath(os.path.normpath(site / row[0]), prefix)] = record
    return listed


def pip_over_conda(prefix: Path) -> Check:
    """Files of conda packages that a pip install (listed in a RECORD) changed or removed."""
    owned = conda_files(prefix)
    damaged: dict[str, set[str]] = {}
    for rel in _pip_records(prefix):
        sha, package = owned.get(rel, (None, ""))
        if sha is None:
            continue  # not conda's, or nothing to compare with
        path = prefix / rel
        if not path.is_file() or _sha256(path) != sha:
            damaged.setdefault(package, set()).add(rel)
    if damaged:
        parts = [f"{pkg} ({len(files)} file{'s' if len(files) > 1 else ''}, e.g. "
                 f"{sorted(files)[0]})" for pkg, files in sorted(damaged.items())]
        return Check("pip-vs-conda", ERROR,
                     "pip overwrote files of conda packages: " + "; ".join(parts),
                     "move those packages from the pip: list to the conda dependencies, "
                     "then `pyve build --force`")
    return Check("pip-vs-conda", OK, "pip left every conda package's files intact")



# What conda-meta records of each installed file, and what a check can compare: a softlink
# only exists; micromamba's compiled .pyc files carry no digest (Python rewrites them).
_CONTENT_TYPES = ("hardlink", "unix_python_entry_point", "windows_python_entry_point_script")


def conda_changed_files(prefix: Path, deep: bool = False) -> dict[str, list[str]]:
    """The files of each installed conda package that are missing or differ from its
    conda-meta record: package name -> paths relative to the prefix. The size is compared
    (one stat a file); with `deep`, the sha256 as well, which catches a same-size edit.
    Files a pip install lists in a RECORD are pip_over_conda's to report."""
    by_pip = _pip_records(prefix)
    changed: dict[str, list[str]] = {}
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        data = _load_json(meta)
        if not isinstance(data, dict):
            continue
        package = str(data.get("name", meta.stem))
        for entry in (data.get("paths_data") or {}).get("paths") or []:
            rel = entry.get("_path") if isinstance(entry, dict) else None
            if not isinstance(rel, str) or rel in by_pip:
                continue
            if _file_changed(prefix / rel, entry, deep):
                changed.setdefault(package, []).append(rel)
    return changed


def _file_changed(path: Path, entry: dict[str, Any], deep: bool) -> bool:
    kind = entry.get("path_type", "hardlink")
    if kind == "softlink":
        return not path.is_symlink() and not path.exists()
    if kind not in _CONTENT_TYPES:
        return False
    try:
        size = path.stat().st_size
    except OSError:
        return True  # missing (or a link to nothing)
    # micromamba records the size in the package, before the prefix was patched in; rattler
    # the size in the env: only an unpatched file's size is comparable
    if not entry.get("prefix_placeholder") and isinstance(entry.get("size_in_bytes"), int) \
            and size != entry["size_in_bytes"]:
        return True
    if not deep:
        return False
    expected = entry.get("sha256_in_prefix") or (
        None if entry.get("prefix_placeholder") else entry.get("sha256"))
    try:
        return bool(expected) and _sha256(path) != expected
    except OSError:
        return True


def conda_files_intact(prefix: Path, deep: bool) -> Check:
    """Each conda package's files are still what it installed (doctor; --deep hashes them)."""
    changed = conda_changed_files(prefix, deep)
    how = "size and sha256" if deep else "size"
    if changed:
        return Check("conda-files", ERROR,
                     f"files changed since their packages were installed ({how}): "
                     + changed_packages(changed),
                     f"`{REPAIR}` links exactly those packages again from the package cache")
    return Check("conda-files", OK, f"every conda package's files are as installed ({how}"
                 + ("" if deep else "; `pyve doctor --deep` compares sha256") + ")")


def conda_lock_fresh(status: dict[str, str | None], lock_name: str) -> Check:
    stale = {p: why for p, why in status.items() if why}
    if stale:
        platform, why = next(iter(stale.items()))
        more = f" (+{len(stale) - 1} more platforms)" if len(stale) > 1 else ""
        return Check("lock-fresh", WARN, f"{lock_name} is stale for {platform}: {why}{more}",
                     "run `pyve lock`")
    return Check("lock-fresh", OK, f"{lock_name} is fresh for {', '.join(status)}")


def shared_with_cache(env_dir: Path, cache: Path) -> Check:
    """How much of a conda env is hard links (from the package cache, where rattler and
    micromamba link packages from): disk a second env with the same packages does not cost
    again. Stat calls only; a file counts once per env, as `du` counts it."""
    try:
        cache_dev: int | None = os.stat(cache).st_dev
    except OSError:
        cache_dev = None  # no cache: nothing in the env can be shared with it
    total = shared = 0
    seen: set[int] = set()
    for base, _dirs, files in os.walk(env_dir):
        for name in files:
            try:
                info = os.lstat(os.path.join(base, name))
            except OSError:
                continue  # vanished meanwhile
            if not stat.S_ISREG(info.st_mode) or info.st_ino in seen:
                continue
            seen.add(info.st_ino)
            total += info.st_size
            if info.st_nlink > 1 and info.st_dev == cache_dev:
                shared += info.st_size
    share = f" ({100 * shared // total}%)" if total else ""
    return Check("disk-shared", OK,
                 f"{human(shared)} of the environment's {human(total)}{share} are hard links "
                 "shared with the package cache: another environment with these packages "
                 "does not store them again")
