"""The packages an engine links, checked first: each file's sha256, the paths it names, and
the packages of http(s) channels fetched into the package cache (and checked there) before
rattler links them; the stamps that spare an unchanged package a second check.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from rattler import RepoDataRecord

from pyve.backends.conda import archives
from pyve.engines import pkgcache
from pyve.engines.rattler_run import _Reporter, _run
from pyve.errors import PyveError, first_line

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
                   on_progress: Callable[[str], None] | None = None) -> set[str]:
    """What every engine checks before it links: each file's sha256 (micromamba checks md5
    only) and that no package names a path outside the env. A package that comes over
    http(s) and is not in the cache yet is fetched into it first, so it is checked too.
    Returns the file names an earlier build's stamp vouched for (not checked again)."""
    vouched = {r.file_name for r in records if _already_checked(r, cache_dir)}
    unchecked = [r for r in records if r.file_name not in vouched]
    verify_sha256(unchecked)
    fetched = fetch_remote(records, cache_dir, _Reporter(on_progress) if on_progress else None)
    check_archives([r for r in unchecked if r.file_name not in fetched], cache_dir)
    return vouched


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


def _record_checked(records: Sequence[RepoDataRecord], cache_dir: Path,
                    vouched: Collection[str] = ()) -> None:
    """After a link: stamp each local package's cache entry as checked (its archive's
    sha256 and its paths were, before the link). Those a stamp `vouched` for before the
    link keep it unread: a cache copy rattler extracted again meanwhile has other facts, so
    its stamp no longer matches and the next build checks it."""
    for record in records:
        if record.file_name in vouched:
            continue
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
