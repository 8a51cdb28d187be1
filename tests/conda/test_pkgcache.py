"""The package cache: marked as pyve's when pyve creates it; `clean` empties only a marked
folder, only of package entries, never through a symlink."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.engines import pkgcache, rattler_cache
from pyve.engines import rattler as engine
from pyve.errors import PyveError


def _install(local_channel: Path, prefix: Path, cache_dir: Path) -> None:
    engine.install(engine.solve([str(local_channel)], ["bar"], "linux-64"), prefix, cache_dir)


def test_a_new_cache_is_marked_and_clean_removes_only_packages(
        local_channel: Path, tmp_path: Path, cache_dir: Path) -> None:
    _install(local_channel, tmp_path / "env", cache_dir)
    assert pkgcache.is_pyve_cache(cache_dir)
    assert (cache_dir / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    packages = pkgcache.package_entries(cache_dir)
    assert {p.name for p in packages} >= {"bar-0.4-0", "bar-0.4-0.lock", ".cache.lock"}
    (cache_dir / "notes.txt").write_text("mine\n")  # not a package: kept
    (cache_dir / "some-folder").mkdir()
    (cache_dir / ".pyve-fetch-k1ll3d" / "bar-0.4-0").mkdir(parents=True)  # a killed fetch's
    freed = pkgcache.clean(cache_dir)
    assert freed > 0
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        ".pyve-package-cache", "CACHEDIR.TAG", "notes.txt", "some-folder"]
    assert pkgcache.clean(cache_dir) == 0
    _install(local_channel, tmp_path / "env2", cache_dir)  # and the emptied cache works again
    assert pkgcache.package_entries(cache_dir)


def test_a_folder_pyve_did_not_mark_is_never_emptied(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "bar-0.4-0" / "info").mkdir(parents=True)  # looks like a package, all the same
    (home / "bar-0.4-0" / "info" / "index.json").write_text("{}")
    (home / "thesis.tex").write_text("years of work\n")
    (home / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    with pytest.raises(PyveError, match="not a package cache pyve made"):
        pkgcache.clean(home)
    assert (home / "thesis.tex").is_file() and (home / "bar-0.4-0" / "info").is_dir()


def test_prepare_never_claims_a_folder_with_files(tmp_path: Path) -> None:
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    folder.chmod(0o1777)
    with pytest.raises(PyveError, match="full is not a package cache pyve made"):
        pkgcache.prepare(folder)
    assert not pkgcache.is_pyve_cache(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt"]
    assert folder.stat().st_mode & 0o7777 == 0o1777


def test_a_folder_pyve_did_not_make_means_its_subfolder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    monkeypatch.setenv("PYVE_CACHE_DIR", str(shared))
    assert pkgcache.default_cache_dir() == shared  # not there yet: pyve makes it, its own
    shared.mkdir()  # made by someone else (even empty)
    assert pkgcache.default_cache_dir() == shared / "pyve-pkgs"
    pkgcache.prepare(shared / "pyve-pkgs")
    assert pkgcache.is_pyve_cache(shared / "pyve-pkgs")
    assert pkgcache.default_cache_dir() == shared / "pyve-pkgs"
    (shared / "pyve-pkgs").rename(tmp_path / "ours")  # a marked folder is pyve's cache itself
    monkeypatch.setenv("PYVE_CACHE_DIR", str(tmp_path / "ours"))
    assert pkgcache.default_cache_dir() == tmp_path / "ours"


def test_clean_never_follows_a_symlink(tmp_path: Path) -> None:
    cache = tmp_path / "pkgs"
    pkgcache.prepare(cache)
    outside = tmp_path / "outside"
    (outside / "info").mkdir(parents=True)
    (outside / "info" / "index.json").write_text("{}")
    (outside / "x.conda").write_text("not ours")
    (cache / "linked-1.0-0").symlink_to(outside)  # a link to a package-like folder
    (cache / "linked-1.0-0.conda").symlink_to(outside / "x.conda")
    pkgcache.clean(cache)
    assert (outside / "info" / "index.json").is_file() and (outside / "x.conda").is_file()
    assert not (cache / "linked-1.0-0.conda").is_symlink()  # the link itself went


def test_a_checked_cache_entry_is_not_read_again_until_it_changes(
        local_channel: Path, tmp_path: Path, cache_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second env from the same cache hashes no archive and reads no paths list; an
    archive touched since (or a cache copy re-extracted) is checked again, and a tampered
    one is still refused."""
    from tests.support import conda_fixtures

    channel = conda_fixtures.copy_channel(local_channel, tmp_path / "chan")
    records = engine.solve([str(channel)], ["bar"], "linux-64")
    engine.install(records, tmp_path / "env1", cache_dir)
    assert sorted(p.name for p in (cache_dir / pkgcache.CHECKED).iterdir()) == sorted(
        rattler_cache.cache_entry(cache_dir, r).name for r in records)
    hashed: list[str] = []
    real_hash = rattler_cache._sha256_file
    monkeypatch.setattr(rattler_cache, "_sha256_file",
                        lambda p: hashed.append(p.name) or real_hash(p))
    facts: list[str] = []
    real_facts = rattler_cache._checked_facts
    monkeypatch.setattr(rattler_cache, "_checked_facts",
                        lambda r, c: facts.append(r.file_name) or real_facts(r, c))
    engine.install(records, tmp_path / "env2", cache_dir)
    assert hashed == []
    assert sorted(facts) == sorted(r.file_name for r in records)  # read once, not restamped
    conda_fixtures.tamper(channel, "noarch", "foo-py-1.5-0.tar.bz2")
    with pytest.raises(PyveError, match=r"foo-py-1.5-0.tar.bz2 does not match its sha256"):
        engine.install(records, tmp_path / "env3", cache_dir)
    assert hashed == ["foo-py-1.5-0.tar.bz2"]
    assert pkgcache.CHECKED in {p.name for p in pkgcache.package_entries(cache_dir)}
