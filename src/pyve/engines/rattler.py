"""Solve and install conda environments in-process with py-rattler (0.28).

Sync wrappers over rattler's coroutines; every rattler failure the user can act on becomes a
one-line PyveError naming the package or channel.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import rattler
from rattler import (
    BuildString,
    GenericVirtualPackage,
    MatchSpec,
    PackageCache,
    PackageName,
    RepoDataRecord,
    ValidationMode,
    Version,
    VirtualPackage,
)
from rattler.exceptions import GatewayError, InvalidMatchSpecError, SolverError

from pyve.backends.conda.lockspec import default_virtual_packages
from pyve.engines import pkgcache
from pyve.engines.pkgcache import default_cache_dir
from pyve.engines.rattler_cache import _record_checked, check_packages, verify_sha256
from pyve.engines.rattler_run import _Reporter, _run
from pyve.errors import PyveError, first_line
from pyve.fsutil import _umask, atomic_write_text
from pyve.redact import with_credentials, without_credentials


def host_platform() -> str:
    return str(rattler.Subdir.current())


def virtual_packages(platform: str) -> list[Any]:
    """The host's detected virtual packages, or conda-lock's defaults for another platform."""
    if platform == host_platform():
        return list(VirtualPackage.detect())
    return [GenericVirtualPackage(PackageName(name), Version(version), BuildString(build or "0"))
            for name, version, build in default_virtual_packages(platform)]


def solve(channels: Sequence[str], specs: Sequence[str], platform: str,
          virtual_packages: Sequence[Any] | None = None,
          pinned: Sequence[RepoDataRecord] = ()) -> list[RepoDataRecord]:
    """Solve `specs` from `channels` for `platform` (+ noarch); records sorted by name.
    `pinned`: records the solve must not change (a solution others are added beside)."""
    vps = {platform: list(virtual_packages)} if virtual_packages is not None else None
    return solve_all(channels, specs, [platform], vps, pinned)[platform]


def solve_all(channels: Sequence[str], specs: Sequence[str], platforms: Sequence[str],
              virtual_packages: dict[str, list[Any]] | None = None,
              pinned: Sequence[RepoDataRecord] = ()) -> dict[str, list[RepoDataRecord]]:
    """`solve` for several platforms at once: one gateway, so each channel's index (noarch's
    for every platform) is read once, not once per platform; the solves run concurrently
    (rattler solves off the GIL). A failure names the first platform, in order, that
    failed."""
    if not channels:
        raise PyveError("no conda channels to solve from",
                        hint="add 'channels: [conda-forge]' to environment.yml")
    vps = {p: list(virtual_packages[p]) if virtual_packages and p in virtual_packages
           else _virtual_packages_for(p) for p in platforms}
    try:
        # MatchSpec objects, not strings: rattler parses strings strictly and rejects the
        # `name=version=build` pins that `micromamba env export` and `conda env export` write
        parsed = [MatchSpec(s) for s in specs]
    except InvalidMatchSpecError as exc:
        raise PyveError(f"invalid conda spec: {first_line(exc)}") from exc
    gateway = _gateway()

    async def one(platform: str) -> list[RepoDataRecord] | BaseException:
        try:
            return await rattler.solve(sources=list(channels), specs=parsed, gateway=gateway,
                                       platforms=[platform, "noarch"],  # type: ignore[list-item]
                                       pinned_packages=list(pinned) or None,
                                       virtual_packages=vps[platform])
        except (SolverError, GatewayError, InvalidMatchSpecError) as exc:
            return exc  # every solve ends before one is raised

    async def every() -> list[list[RepoDataRecord] | BaseException]:
        return list(await asyncio.gather(*(one(p) for p in platforms)))

    solved: dict[str, list[RepoDataRecord]] = {}
    for platform, result in zip(platforms, _run(every()), strict=True):
        if isinstance(result, SolverError):
            raise PyveError(f"cannot solve the conda environment for {platform}: "
                            f"{_solver_reason(result)}",
                            hint="relax the version constraints or add the channel that has "
                                 "the package") from result
        if isinstance(result, GatewayError):
            raise _gateway_error(result, channels) from result
        if isinstance(result, BaseException):
            raise PyveError(f"invalid conda spec: {first_line(result)}") from result
        solved[platform] = sorted(result, key=lambda r: r.name.normalized)
    return solved


def _virtual_packages_for(platform: str) -> list[Any]:
    return virtual_packages(platform)


def _gateway() -> rattler.Gateway:
    """rattler's gateway with the client that also downloads: a channel URL without
    credentials (a lock's) is then read with the stored ones (~/.netrc, rattler's
    credentials file), as a package fetch is. The bare Gateway() sends none."""
    from rattler.networking import Client

    from pyve.offline import is_offline

    # --offline: the repodata an earlier online build cached, however old, and never a
    # request (micromamba --offline solves from its cache the same way)
    config = rattler.SourceConfig(cache_action="force-cache-only") if is_offline() else None
    return rattler.Gateway(client=Client.default_client(), default_config=config)


def _solver_reason(exc: SolverError) -> str:
    # rattler's message is a tree ("Cannot solve the request because of: ..."); the lines
    # that name packages carry the reason, so keep them joined on one line.
    text = str(exc).replace("Cannot solve the request because of:", "")
    lines = [ln.strip(" │├└─\t") for ln in text.splitlines()]
    return " ".join(ln for ln in lines[:6] if ln).rstrip(".") or "no solution"


def _gateway_error(exc: GatewayError, channels: Sequence[str]) -> PyveError:
    from pyve.offline import is_offline

    message = first_line(exc)
    named = [c for c in channels if c.rstrip("/").rsplit("/", 1)[-1] in str(exc)]
    channel = named[0] if named else ", ".join(channels)
    if is_offline():
        return PyveError(f"--offline: the index of channel {channel} is not in the local "
                         f"cache ({message})",
                         hint="run the build once online: it caches the channel's index and "
                              "packages for the builds after it")
    return PyveError(f"unreachable channel {channel}: {message}",
                     hint="check the channel name/URL and your network or proxy settings")


# --- install -----------------------------------------------------------------------------

def install(records: Sequence[RepoDataRecord], prefix: Path, cache_dir: Path | None = None,
            requested_specs: Sequence[str] = (), reinstall: Iterable[str] = (),
            on_progress: Callable[[str], None] | None = None) -> None:
    """Make `prefix` hold exactly `records` (pip-installed files stay); mark it micromamba's.
    `reinstall`: names of installed packages to link again (their files changed).
    on_progress hears what rattler is doing, in a few words (downloads, links).

    On any failure the prefix is removed: a half-linked env is worse than none, and its
    content-addressed directory is rebuilt on the next run.
    """
    prefix = Path(prefix)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    vouched = check_packages(records, cache_dir, on_progress)
    inner_specs = [MatchSpec(s)._match_spec for s in requested_specs]
    try:
        pkgcache.prepare(cache_dir)  # made and marked as pyve's cache, or used as it is
        _run(rattler.install(list(records), target_prefix=prefix,
                             package_cache=validating_cache(cache_dir),
                             reinstall_packages=set(reinstall) or None,
                             show_progress=False, requested_specs=inner_specs,
                             # rattler calls only the methods a reporter has
                             reporter=_Reporter(on_progress)  # type: ignore[arg-type]
                             if on_progress else None))
        _fix_channel_urls(prefix, records)
        _record_checked(records, cache_dir, vouched)
        _append_history(prefix, requested_specs)
        _normalise_record_modes(prefix)
    except BaseException as exc:
        shutil.rmtree(prefix, ignore_errors=True)
        if isinstance(exc, PyveError | KeyboardInterrupt | SystemExit):
            raise
        raise PyveError(f"conda install into {prefix} failed: {first_line(exc)}",
                        hint="the partial environment was removed; run the build again") from exc


def validating_cache(cache_dir: Path) -> PackageCache:
    """The package cache, with every extracted package checked against its paths.json (size
    and sha256 of each file) before it is linked: a package whose files changed in the cache
    (they are hardlinked into every env) is extracted again, never linked as it is.
    rattler's default only checks that the folder has an info/index.json."""
    return PackageCache.new_layered([cache_dir], validation_mode=ValidationMode.full())


def _channel_of(record: RepoDataRecord) -> str:
    # The channel URL is the package URL minus "<subdir>/<file>", with a trailing slash.
    if record.channel:
        return str(record.channel)
    return record.url.rsplit("/", 2)[0] + "/"


def _fix_channel_urls(prefix: Path, records: Sequence[RepoDataRecord]) -> None:
    """micromamba needs a string `channel` in conda-meta/*.json; rattler may write null."""
    by_file = {r.file_name: r for r in records}
    for meta in (prefix / "conda-meta").glob("*.json"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        if isinstance(data.get("channel"), str) and data["channel"]:
            continue
        record = by_file.get(data.get("fn", ""))
        url = data.get("url") or (record.url if record else "")
        data["channel"] = _channel_of(record) if record else url.rsplit("/", 2)[0] + "/"
        atomic_write_text(meta, json.dumps(data, indent=2))


def forget_credentials(prefix: Path) -> None:
    """Take channel credentials out of the env's records (conda-meta/*.json): rattler and
    micromamba copy each package's URL and channel there, with the user:password it was
    fetched with."""
    for meta in (prefix / "conda-meta").glob("*.json"):
        text = meta.read_text(encoding="utf-8")
        if "@" not in text and "/t/" not in text:
            continue
        data = json.loads(text)
        changed = False
        for key, value in data.items():
            if isinstance(value, str) and without_credentials(value) != value:
                data[key] = without_credentials(value)
                changed = True
        if changed:
            atomic_write_text(meta, json.dumps(data, indent=2))


def _normalise_record_modes(prefix: Path) -> None:
    """rattler writes conda-meta/*.json with mode 0600; micromamba leaves them to the umask.
    Do as micromamba does, so an env restored from a CI cache under another user, or shared
    on a cluster, stays readable by conda tools."""
    mode = 0o666 & ~_umask()
    for meta in (prefix / "conda-meta").glob("*.json"):
        if meta.stat().st_mode & 0o777 != mode:
            os.chmod(meta, mode)


def _append_history(prefix: Path, requested_specs: Sequence[str]) -> None:
    """A `# update specs:` entry lets `micromamba install -p <env>` treat the env as its own."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    entry = (f"==> {stamp} <==\n# cmd: pyve build\n# conda version: 3.8.0\n"
             f"# update specs: {json.dumps(list(requested_specs))}\n")
    history = prefix / "conda-meta" / "history"
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a", encoding="utf-8") as handle:
        handle.write(entry)


# --- what the user installed by hand ----------------------------------------------------

def installed_records(prefix: Path, names: Iterable[str]) -> list[RepoDataRecord]:
    """The conda-meta records of these installed packages (`micromamba install` wrote them)."""
    wanted = set(names)
    found: list[RepoDataRecord] = []
    for path in sorted((Path(prefix) / "conda-meta").glob("*.json")):
        parts = path.name[: -len(".json")].rsplit("-", 2)
        if len(parts) == 3 and parts[0] in wanted:
            try:
                found.append(rattler.PrefixRecord.from_path(path))
            except Exception:  # noqa: BLE001 - a damaged record: not a package to keep
                continue
    return found


def keepable(records: Sequence[RepoDataRecord], extra: Sequence[RepoDataRecord]
             ) -> tuple[list[RepoDataRecord], dict[str, str]]:
    """Those of `extra` (installed by hand) that can stay beside `records` (the solution):
    every dependency met by a package of the two, the package file still as recorded.
    Returns (kept, {name: why it goes})."""
    kept = {r.name.normalized: r for r in extra}
    dropped: dict[str, str] = {}
    changed = True
    while changed:  # dropping one may leave another without its dependency
        changed = False
        have = {**{r.name.normalized: r for r in records}, **kept}
        for name, record in list(kept.items()):
            why = _unmet(record, have)
            if why is None:
                try:
                    verify_sha256([record])
                except PyveError as exc:
                    why = exc.message
            if why is not None:
                dropped[name] = why
                del kept[name]
                changed = True
    return list(kept.values()), dropped


def _unmet(record: RepoDataRecord, have: dict[str, RepoDataRecord]) -> str | None:
    for depend in record.depends:
        try:
            spec = MatchSpec(depend)
        except InvalidMatchSpecError:
            return f"its dependency {depend!r} cannot be read"
        name = spec.name.normalized if spec.name else None
        if name is None or name.startswith("__"):
            continue  # a virtual package (__glibc): the machine's, not the env's
        found = have.get(name)
        if found is None:
            return f"it needs {depend}, which the environment no longer has"
        if not spec.matches(found):
            return f"it needs {depend}, and the environment has {name} {found.version}"
    return None


# --- from a lock -------------------------------------------------------------------------

def records_from_lock(lock_packages: Iterable[dict], platform: str,
                      credentials: Iterable[str] = ()) -> list[RepoDataRecord]:
    """RepoDataRecords for the conda entries of `platform` in a conda-lock.yml, no solve.

    The lock does not carry everything a record needs (noarch type, build number...), so the
    channels it names are queried and the records whose URL the lock lists are kept; their
    sha256 must equal the lock's. The lock's URLs carry no credentials: a channel of
    `credentials` (environment.yml's) lends its own to the query, else rattler's stored
    ones (~/.netrc, its credentials file) are used.
    """
    wanted = {without_credentials(p["url"]): p for p in lock_packages
              if p.get("manager", "conda") == "conda" and p.get("platform") == platform}
    if not wanted:
        return []
    sources = list(credentials)
    channels = sorted({with_credentials(url.rsplit("/", 2)[0], sources) for url in wanted})
    names = sorted({p["name"] for p in wanted.values()})
    try:
        result = _run(_gateway().query(channels, [platform, "noarch"],  # type: ignore[list-item]
                                              names,
                                              recursive=False))
    except GatewayError as exc:
        raise _gateway_error(exc, channels) from exc
    found = {without_credentials(r.url): r for per_channel in result for r in per_channel
             if without_credentials(r.url) in wanted}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise PyveError(f"locked package {missing[0].rsplit('/', 1)[-1]} is no longer in its "
                        "channel", hint="re-lock the environment (pyve lock)")
    for url, record in found.items():
        locked = (wanted[url].get("hash") or {}).get("sha256")
        if locked and record.sha256 is not None and record.sha256.hex() != locked:
            raise PyveError(f"package {record.file_name} has sha256 {record.sha256.hex()[:12]}"
                            f"... in its channel but {locked[:12]}... in the lock",
                            hint="the channel changed the package; re-lock if you trust it")
    return sorted(found.values(), key=lambda r: r.name.normalized)


class RattlerEngine:
    """The embedded engine (the default), as engines.Engine."""

    name = "rattler"

    def install(self, records: Sequence[RepoDataRecord], prefix: Path,
                requested_specs: Sequence[str] = (), *, reinstall: Iterable[str] = (),
                on_progress: Callable[[str], None] | None = None) -> None:
        install(records, prefix, default_cache_dir(), requested_specs, reinstall=reinstall,
                on_progress=on_progress)

