"""Solve and install conda environments in-process with py-rattler (0.28).

Sync wrappers over rattler's coroutines; every rattler failure the user can act on becomes a
one-line PyveError naming the package or channel.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

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

from pyve.backends.conda import archives
from pyve.backends.conda.lockspec import default_virtual_packages
from pyve.engines import pkgcache
from pyve.engines.pkgcache import default_cache_dir
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


def _run(coro: Any) -> Any:
    """asyncio.run, with Ctrl-C raised where it lands. asyncio.run's own handler only cancels
    the task, and the interrupt is lost when the task finishes anyway (a rattler future that
    completes its work whatever the cancel): the build went on and exited 0. asyncio leaves
    SIGINT alone when a handler other than Python's default is set."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler or \
            threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)  # SIGINT ignored or handled elsewhere: as they say
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        return asyncio.run(coro)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_interrupt(signum: int, frame: Any) -> None:
    signal.default_int_handler(signum, frame)


def solve(channels: Sequence[str], specs: Sequence[str], platform: str,
          virtual_packages: Sequence[Any] | None = None,
          pinned: Sequence[RepoDataRecord] = ()) -> list[RepoDataRecord]:
    """Solve `specs` from `channels` for `platform` (+ noarch); records sorted by name.
    `pinned`: records the solve must not change (a solution others are added beside)."""
    if not channels:
        raise PyveError("no conda channels to solve from",
                        hint="add 'channels: [conda-forge]' to environment.yml")
    from pyve.offline import is_offline, network_url

    online = [c for c in channels if network_url(c)]
    if is_offline() and online:
        raise PyveError(f"--offline: solving needs the index of channel {online[0]}",
                        hint="commit conda-lock.yml (then the build installs from it), or run "
                             "the build online")
    vps = list(virtual_packages) if virtual_packages is not None else \
        _virtual_packages_for(platform)
    try:
        # MatchSpec objects, not strings: rattler parses strings strictly and rejects the
        # `name=version=build` pins that `micromamba env export` and `conda env export` write
        parsed = [MatchSpec(s) for s in specs]
        records = _run(rattler.solve(sources=list(channels), specs=parsed, gateway=_gateway(),
                                     platforms=[platform, "noarch"],  # type: ignore[list-item]
                                     pinned_packages=list(pinned) or None,
                                     virtual_packages=vps))
    except SolverError as exc:
        raise PyveError(f"cannot solve the conda environment for {platform}: "
                        f"{_solver_reason(exc)}",
                        hint="relax the version constraints or add the channel that has the "
                             "package") from exc
    except GatewayError as exc:
        raise _gateway_error(exc, channels) from exc
    except InvalidMatchSpecError as exc:
        raise PyveError(f"invalid conda spec: {first_line(exc)}") from exc
    return sorted(records, key=lambda r: r.name.normalized)


def _virtual_packages_for(platform: str) -> list[Any]:
    return virtual_packages(platform)


def _gateway() -> rattler.Gateway:
    """rattler's gateway with the client that also downloads: a channel URL without
    credentials (a lock's) is then read with the stored ones (~/.netrc, rattler's
    credentials file), as a package fetch is. The bare Gateway() sends none."""
    from rattler.networking import Client

    return rattler.Gateway(client=Client.default_client())


def _solver_reason(exc: SolverError) -> str:
    # rattler's message is a tree ("Cannot solve the request because of: ..."); the lines
    # that name packages carry the reason, so keep them joined on one line.
    text = str(exc).replace("Cannot solve the request because of:", "")
    lines = [ln.strip(" │├└─\t") for ln in text.splitlines()]
    return " ".join(ln for ln in lines[:6] if ln).rstrip(".") or "no solution"


def _gateway_error(exc: GatewayError, channels: Sequence[str]) -> PyveError:
    message = first_line(exc)
    named = [c for c in channels if c.rstrip("/").rsplit("/", 1)[-1] in str(exc)]
    channel = named[0] if named else ", ".join(channels)
    return PyveError(f"unreachable channel {channel}: {message}",
                     hint="check the channel name/URL and your network or proxy settings")


# --- integrity ---------------------------------------------------------------------------

def url_to_path(url: str) -> Path | None:
    """The local file of a file:// URL, else None."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(records: Iterable[RepoDataRecord]) -> None:
    """Check file:// archives against their recorded sha256 (rattler does not for file://)."""
    for record in records:
        path = url_to_path(record.url)
        if path is None:
            continue  # rattler verifies downloads over http(s) itself
        if record.sha256 is None:
            raise PyveError(f"package {record.file_name} has no sha256 to verify",
                            hint="re-index the channel")
        if not path.is_file():
            raise PyveError(f"package {record.file_name} is missing from its channel: {path}")
        actual = _sha256_file(path)
        if actual != record.sha256.hex():
            raise PyveError(f"package {record.file_name} does not match its sha256 "
                            f"(expected {record.sha256.hex()[:12]}..., got {actual[:12]}...)",
                            hint="the channel file was modified after indexing; refusing to "
                                 "install it")


def check_archives(records: Iterable[RepoDataRecord], cache_dir: Path) -> None:
    """Refuse a package that names a path outside the env (py-rattler panics on an absolute
    one). What rattler will link is read: the copy extracted in the cache when it came from
    this very archive (its sha256, in rattler's lock file beside it), else the local archive
    (reading 150 archives took ~0.45 s of a build that links from the cache)."""
    packages = []
    for record in records:
        entry = cache_entry(cache_dir, record)
        from_cache = _complete(entry) and _cached_sha256(entry) == record.sha256
        packages.append((record.file_name, None if from_cache else url_to_path(record.url),
                         entry))
    archives.check(packages)


def check_packages(records: Sequence[RepoDataRecord], cache_dir: Path,
                   on_progress: Callable[[str], None] | None = None) -> None:
    """What every engine checks before it links: each file's sha256 (micromamba checks md5
    only) and that no package names a path outside the env. A package that comes over
    http(s) and is not in the cache yet is fetched into it first, so it is checked too."""
    unchecked = [r for r in records if not _already_checked(r, cache_dir)]
    verify_sha256(unchecked)
    fetched = fetch_remote(records, cache_dir, _Reporter(on_progress) if on_progress else None)
    check_archives([r for r in unchecked if r.file_name not in fetched], cache_dir)


def _checked_facts(record: RepoDataRecord, cache_dir: Path) -> str | None:
    """What a stamp records for a local package linked from the cache: the sha256 it must
    have, and the file facts of its archive and of the cache copy's paths list. None when
    the package is not local or its cache copy is not from this very archive."""
    archive = url_to_path(record.url)
    entry = cache_entry(cache_dir, record)
    if archive is None or record.sha256 is None or not _complete(entry) \
            or _cached_sha256(entry) != record.sha256:
        return None
    paths = entry / archives.PATHS_JSON
    if not paths.is_file():
        paths = entry / archives.FILES
    try:
        return (f"{record.sha256.hex()} {pkgcache.file_facts(archive)} "
                f"{pkgcache.file_facts(paths)}\n")
    except OSError:
        return None


def _already_checked(record: RepoDataRecord, cache_dir: Path) -> bool:
    """A local archive hashed and a cache copy's paths checked by an earlier build, neither
    changed since: not read again (micromamba reads neither)."""
    facts = _checked_facts(record, cache_dir)
    return facts is not None and pkgcache.was_checked(cache_dir, cache_entry(cache_dir,
                                                                             record).name, facts)


def _record_checked(records: Sequence[RepoDataRecord], cache_dir: Path) -> None:
    """After a link: stamp each local package's cache entry as checked (its archive's
    sha256 and its paths were, before the link)."""
    for record in records:
        facts = _checked_facts(record, cache_dir)
        name = cache_entry(cache_dir, record).name
        if facts is not None and not pkgcache.was_checked(cache_dir, name, facts):
            pkgcache.record_checked(cache_dir, name, facts)  # written once, not per build


# --- packages from http(s) channels ------------------------------------------------------

FETCH_AT_ONCE = 8  # downloads in flight at once


def cache_entry(cache_dir: Path, record: RepoDataRecord) -> Path:
    """Where the package cache holds a package extracted (rattler's layout)."""
    return cache_dir / record.file_name.removesuffix(".tar.bz2").removesuffix(".conda")


def _complete(entry: Path) -> bool:
    """Extracted whole: an extraction cut short lacks info/, which archives put last."""
    info = entry / "info"
    return (info / "index.json").is_file() and (
        (info / archives.PATHS_JSON.removeprefix("info/")).is_file()
        or (info / archives.FILES.removeprefix("info/")).is_file())


def _lock_file(entry: Path) -> Path:
    return entry.with_name(entry.name + ".lock")


def _cached_sha256(entry: Path) -> bytes | None:
    """The sha256 of the archive a cache entry was extracted from, as rattler 0.28 records
    it (`<entry>.lock`: an 8-byte revision, then the 32-byte digest); None if unknown."""
    try:
        data = _lock_file(entry).read_bytes()
    except OSError:
        return None
    return data[8:] if len(data) == 40 else None


def _needs_fetch(record: RepoDataRecord, cache_dir: Path) -> bool:
    """An http(s) package rattler would download: no whole copy in the cache, or one that
    rattler recorded as coming from another archive of that name (a channel that replaced
    the file). A whole copy with no record (a fetch killed before writing it) is what
    rattler links as it is, and is checked as such."""
    if url_to_path(record.url) is not None:
        return False
    entry = cache_entry(cache_dir, record)
    return not _complete(entry) or _cached_sha256(entry) not in (None, record.sha256)


def fetch_remote(records: Sequence[RepoDataRecord], cache_dir: Path,
                 reporter: _Reporter | None = None) -> set[str]:
    """Download and extract into the cache each http(s) package it does not hold yet, check
    it, and only then put it in place; return the file names fetched.

    rattler links what it downloads without looking at the paths a package names (an
    absolute one panics it: exit 134, nothing Python can catch). Given a full cache, rattler
    validates each entry against its paths.json and links it; it downloads nothing."""
    todo = [r for r in records if _needs_fetch(r, cache_dir)]
    if not todo:
        return set()
    from pyve.offline import is_offline

    if is_offline():
        names = ", ".join(r.file_name for r in todo[:5]) + (" ..." if len(todo) > 5 else "")
        raise PyveError(f"--offline: {len(todo)} package(s) are not in the package cache "
                        f"{cache_dir}: {names}",
                        hint="run the build once online (or restore the package cache)")
    pkgcache.prepare(cache_dir)
    staging = Path(tempfile.mkdtemp(prefix=pkgcache.STAGING_PREFIX, dir=cache_dir))
    try:
        _run(_download_all(todo, staging, reporter))
        archives.check([(r.file_name, None, cache_entry(staging, r)) for r in todo])
        for record in todo:
            _put_in_cache(cache_entry(staging, record), record, cache_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {r.file_name for r in todo}


async def _download_all(records: Sequence[RepoDataRecord], staging: Path,
                        reporter: _Reporter | None) -> None:
    from rattler.networking import Client
    from rattler.package_streaming import download_and_extract

    client = Client.default_client()  # retries and stored credentials, as rattler's own
    at_once = asyncio.Semaphore(FETCH_AT_ONCE)

    async def fetch(record: RepoDataRecord) -> None:
        async with at_once:
            token = reporter.on_download_start(0) if reporter else 0
            dest = cache_entry(staging, record)
            try:
                sha256, _md5 = await download_and_extract(client, record.url, dest,
                                                          expected_sha=record.sha256)
            except Exception as exc:
                raise PyveError(f"cannot download package {record.file_name}: "
                                f"{first_line(exc)}",
                                hint="check the channel and your network or proxy settings, "
                                     "then run the build again") from exc
            # rattler 0.28 returns the sha256 it saw without comparing it to expected_sha
            if record.sha256 is not None and sha256 != record.sha256:
                raise PyveError(
                    f"cannot download package {record.file_name}: it does not match its "
                    f"sha256 (expected {record.sha256.hex()[:12]}..., got {sha256.hex()[:12]}...)",
                    hint="the channel's file changed after it was indexed; refusing to install it")
            if reporter:
                size = record.size or 0
                reporter.on_download_progress(token, size, size)
                reporter.on_download_completed(token)

    # every download finishes (or fails) before the first failure is raised: rattler's
    # side keeps writing into staging after a cancel, and staging is removed next
    failures = [result for result in await asyncio.gather(*(fetch(r) for r in records),
                                                           return_exceptions=True)
                if isinstance(result, BaseException)]
    if failures:
        raise failures[0]


def _put_in_cache(extracted: Path, record: RepoDataRecord, cache_dir: Path,
                  staging: Path) -> None:
    """Move a checked package into place; what was there (a copy cut short, or another
    archive's, with its lock file) is set aside first. A build running beside this one may
    have put the same package there meanwhile: then that one stays (it may be linking
    from it)."""
    entry = cache_entry(cache_dir, record)
    if not _needs_fetch(record, cache_dir):
        return
    aside = Path(tempfile.mkdtemp(prefix="replaced-", dir=staging))  # removed with staging
    for old in (entry, _lock_file(entry)):
        if old.exists() or old.is_symlink():
            os.rename(old, aside / old.name)
    try:
        os.rename(extracted, entry)
    except OSError:
        if not _complete(entry):
            raise
        return
    if record.sha256 is not None:  # as rattler records its own downloads (not ours)
        _lock_file(entry).write_bytes((1).to_bytes(8, "big") + record.sha256)


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
    check_packages(records, cache_dir, on_progress)
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
        _record_checked(records, cache_dir)
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


class _Reporter:
    """rattler's install callbacks (its InstallerReporter protocol, the methods used here)
    as one phrase: downloads with bytes and rate, then links. rattler calls these from its
    own threads; `say` must be thread-safe (rich's is)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.total = 0
        self.downloads: dict[int, tuple[int, int]] = {}  # token -> (bytes so far, size)
        self.tokens = itertools.count()  # next() is atomic: starts may come from two threads
        self.downloaded = 0
        self.linked = 0
        self.first_byte: float | None = None
        self.last_byte = 0.0
        self.said = 0.0

    def on_transaction_start(self, total_operations: int) -> None:
        self.total = total_operations
        self.say(f"installing {total_operations} packages")

    def on_download_start(self, cache_entry: int) -> int:
        token = next(self.tokens)
        self.downloads[token] = (0, 0)
        self.first_byte = self.first_byte or time.monotonic()
        return token

    def on_download_progress(self, download_idx: int, progress: int, total: int | None) -> None:
        self.downloads[download_idx] = (progress, total or 0)
        self.last_byte = now = time.monotonic()
        if now - self.said >= 0.2:  # callbacks come per chunk: a few phrases a second
            self.said = now
            self._say_downloads()

    def on_download_completed(self, download_idx: int) -> None:
        self.downloaded += 1
        self._say_downloads()

    def _say_downloads(self) -> None:
        from rich.filesize import decimal

        done = sum(d for d, _ in self.downloads.values())
        size = sum(t for _, t in self.downloads.values())
        # the rate while bytes came in (links running between downloads do not lower it)
        rate = done / max(self.last_byte - (self.first_byte or self.last_byte), 0.001)
        self.say(f"downloading {self.downloaded}/{len(self.downloads)} packages "
                 f"{decimal(done)}/{decimal(size)} {decimal(int(rate))}/s")

    def on_link_start(self, operation: int, package_name: str) -> int:
        # rattler links several at once: say the count of those done
        self.say(f"linking {package_name} ({self.linked}/{self.total} linked)")
        return operation

    def on_link_complete(self, index: int) -> None:
        self.linked += 1


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

