"""Real solves and installs against the local channel (never conda-forge)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pyve.engines import rattler as engine
from pyve.engines import rattler_cache, rattler_run
from pyve.errors import PyveError
from tests.support import conda_fixtures
from tests.support.conda_helpers import served_over_http

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or
                                engine.host_platform() != "linux-64",
                                reason="the host-python package is built for linux-64")


def names(records: list) -> dict[str, str]:
    return {r.name.normalized: str(r.version) for r in records}


def chan(path: Path) -> str:
    return str(path)


@pytest.mark.parametrize("platform", ["linux-64", "osx-64", "osx-arm64", "win-64"])
def test_multi_platform_solve(local_channel: Path, platform: str) -> None:
    records = engine.solve([chan(local_channel)], ["bar"], platform)
    assert names(records) == {"bar": "0.4", "foo-py": "1.5", "libfoo": "2.0"}
    libfoo = next(r for r in records if r.name.normalized == "libfoo")
    assert f"/{platform}/" in libfoo.url
    assert all(r.channel for r in records)


def test_solve_respects_constraints(local_channel: Path) -> None:
    records = engine.solve([f"file://{local_channel}"], ["bar", "libfoo<2"], "linux-64")
    assert names(records) == {"bar": "0.3", "foo-py": "1.5", "libfoo": "1.0"}


def test_virtual_packages_for_other_platforms() -> None:
    osx = {str(v.name.normalized) for v in engine.virtual_packages("osx-arm64")}
    assert osx == {"__unix", "__archspec", "__osx"}
    win = {str(v.name.normalized) for v in engine.virtual_packages("win-64")}
    assert "__win" in win and "__unix" not in win


@pytest.mark.parametrize(("specs", "expected"), [
    (["needs-missing"], "does-not-exist"),
    (["nonexistent-pkg"], "nonexistent-pkg"),
    (["bar", "libfoo<1"], "libfoo <1"),
])
def test_solver_errors_name_the_package(local_channel: Path, specs: list[str],
                                        expected: str) -> None:
    with pytest.raises(PyveError) as info:
        engine.solve([chan(local_channel)], specs, "linux-64")
    assert info.value.message.startswith("cannot solve the conda environment for linux-64: ")
    assert expected in info.value.message and "\n" not in info.value.message


def test_missing_channel_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nochannel")
    with pytest.raises(PyveError, match=f"unreachable channel {missing}"):
        engine.solve([missing], ["bar"], "linux-64")


def test_invalid_spec() -> None:
    with pytest.raises(PyveError, match="invalid conda spec"):
        engine.solve(["/nonexistent"], ["numpy>>1"], "linux-64")


def test_install_marks_env_for_micromamba(local_channel: Path, tmp_path: Path,
                                          cache_dir: Path) -> None:
    prefix = tmp_path / "env"
    records = engine.solve([chan(local_channel)], ["bar"], "linux-64")
    engine.install(records, prefix, cache_dir, requested_specs=["bar"])
    assert (prefix / "share/bar/0.4.txt").read_text() == "bar 0.4\n"
    metas = list((prefix / "conda-meta").glob("*.json"))
    assert len(metas) == 3
    for meta in metas:
        channel = json.loads(meta.read_text())["channel"]
        assert isinstance(channel, str) and channel.startswith("file://")
    history = (prefix / "conda-meta/history").read_text()
    assert '# update specs: ["bar"]' in history
    # Re-installing a smaller set syncs exactly: packages not asked for are removed.
    engine.install(engine.solve([chan(local_channel)], ["libfoo"], "linux-64"), prefix,
                   cache_dir, requested_specs=["libfoo"])
    assert not (prefix / "share/bar").exists()
    assert history.count("==>") == 1
    assert (prefix / "conda-meta/history").read_text().count("==>") == 2


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                           sandbox_home: Path) -> None:
    assert engine.default_cache_dir() == sandbox_home / ".cache/pyve/pkgs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert engine.default_cache_dir() == sandbox_home / ".cache/pyve/pkgs"
    monkeypatch.setenv("PYVE_CACHE_DIR", str(tmp_path / "c"))
    assert engine.default_cache_dir() == tmp_path / "c"


def test_tampered_package_refused(local_channel: Path, tmp_path: Path, cache_dir: Path) -> None:
    channel = conda_fixtures.copy_channel(local_channel, tmp_path / "chan")
    records = engine.solve([chan(channel)], ["bar"], "linux-64")
    conda_fixtures.tamper(channel, "noarch", "foo-py-1.5-0.tar.bz2")
    prefix = tmp_path / "env"
    with pytest.raises(PyveError, match=r"package foo-py-1.5-0.tar.bz2 does not match its sha256"):
        engine.install(records, prefix, cache_dir)
    assert not prefix.exists()


@linux_only
def test_tampered_package_over_http_refused(local_channel: Path, tmp_path: Path,
                                            cache_dir: Path) -> None:
    """Fetched into the cache by pyve (to check its paths), a remote package is checked
    against the channel's sha256 as it downloads; a mismatch leaves nothing in the cache."""
    channel = conda_fixtures.copy_channel(local_channel, tmp_path / "chan")
    with served_over_http(tmp_path) as server:
        records = engine.solve([f"{server}/chan"], ["bar"], "linux-64")
        conda_fixtures.tamper(channel, "noarch", "foo-py-1.5-0.tar.bz2")
        with pytest.raises(PyveError, match=r"cannot download package foo-py-1.5-0.tar.bz2: "):
            engine.install(records, tmp_path / "env", cache_dir)
    assert not (tmp_path / "env").exists()
    assert not list(cache_dir.glob("foo-py-*")) and not list(cache_dir.glob(".pyve-fetch-*"))


def test_partial_prefix_removed_on_failure(local_channel: Path, tmp_path: Path,
                                           cache_dir: Path) -> None:
    channel = conda_fixtures.copy_channel(local_channel, tmp_path / "chan")
    records = engine.solve([chan(channel)], ["bar"], "linux-64")
    # An archive that vanished after the solve: rattler fails part-way through linking.
    (channel / "noarch/bar-0.4-0.tar.bz2").unlink()
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / "leftover").write_text("x")
    with pytest.raises(PyveError, match="missing from its channel"):
        engine.install(records, prefix, cache_dir)
    assert (prefix / "leftover").exists()  # refused before anything was touched
    # A failure once the install began (the cache is a file) removes the half-built prefix.
    good = engine.solve([chan(local_channel)], ["bar"], "linux-64")
    bad_cache = tmp_path / "cache-is-a-file"
    bad_cache.write_text("not a directory")
    with pytest.raises(PyveError, match=r"cache-is-a-file is not a package cache pyve made"):
        engine.install(good, prefix, bad_cache)
    assert not prefix.exists()


@linux_only
def test_pip_installs_into_the_env(local_channel: Path, wheelhouse: Path, tmp_path: Path,
                                   cache_dir: Path) -> None:
    prefix = tmp_path / "env"
    records = engine.solve([chan(local_channel)], ["python", "pip"], "linux-64")
    engine.install(records, prefix, cache_dir, requested_specs=["python", "pip"])
    python = prefix / "bin/python"
    run = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--find-links",
                          str(wheelhouse), "beta"], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    check = subprocess.run([str(python), "-c", "import sys, alpha, beta; "
                            "print(sys.prefix, alpha.__version__, alpha.__file__)"],
                           capture_output=True, text=True, check=True)
    env_prefix, version, location = check.stdout.split()
    assert Path(env_prefix) == prefix and version == "2.0"
    assert Path(location).is_relative_to(prefix)
    # A conda re-sync leaves pip-installed files alone.
    engine.install(records, prefix, cache_dir, requested_specs=["python", "pip"])
    assert list((prefix / "lib").glob("python*/site-packages/alpha/__init__.py"))


def test_records_from_lock_roundtrip(local_channel: Path, tmp_path: Path,
                                     cache_dir: Path) -> None:
    solved = engine.solve([chan(local_channel)], ["bar"], "osx-arm64")
    entries = [{"name": r.name.normalized, "manager": "conda", "platform": "osx-arm64",
                "url": r.url, "hash": {"sha256": r.sha256.hex()}} for r in solved]
    rebuilt = engine.records_from_lock(entries, "osx-arm64")
    assert [r.url for r in rebuilt] == [r.url for r in solved]
    assert engine.records_from_lock(entries, "linux-64") == []
    entries[0]["hash"]["sha256"] = "0" * 64
    with pytest.raises(PyveError, match="in the lock"):
        engine.records_from_lock(entries, "osx-arm64")
    entries[0]["url"] = entries[0]["url"].replace("bar-0.4", "bar-9.9")
    with pytest.raises(PyveError, match=r"bar-9\.9-0\.tar\.bz2 is no longer in its channel"):
        engine.records_from_lock(entries, "osx-arm64")


@linux_only
def test_install_reports_downloads_and_links(local_channel: Path, tmp_path: Path,
                                             cache_dir: Path) -> None:
    """rattler's reporter feeds the live line: package count, bytes and rate of the
    downloads (the channel served over local HTTP, as a real one is), then the links."""
    with served_over_http(local_channel.parent) as server:
        url = f"{server}/{local_channel.name}"
        records = engine.solve([url], ["python", "pip", "bar"], "linux-64")
        said: list[str] = []
        engine.install(records, tmp_path / "env", cache_dir, ["python"], on_progress=said.append)
    assert f"installing {len(records)} packages" in said
    downloads = [s for s in said if s.startswith("downloading ")]
    assert downloads[-1].startswith(f"downloading {len(records)}/{len(records)} packages "), said
    size = r"[\d.]+ (?:bytes|kB|MB)"
    assert re.search(rf"packages {size}/{size} {size}/s$", downloads[-1]), said  # bytes, rate
    assert any(s.startswith("linking python (") for s in said), said
    # pyve fetched each package once, checked it, and rattler linked from the cache
    archives = [path for path in server.requested if path.endswith((".tar.bz2", ".conda"))]
    assert sorted(archives) == sorted({path for path in archives}), archives
    assert len(archives) == len(records)


def _fetched_copy(root: Path, name: str, text: str) -> Path:
    folder = root / name
    (folder / "info").mkdir(parents=True)
    (folder / "info" / "index.json").write_text("{}")
    (folder / "info" / "paths.json").write_text('{"paths": [], "paths_version": 1}')
    (folder / "info" / "which").write_text(text)
    return folder


def test_a_fetched_package_replaces_a_broken_copy_but_not_a_good_one(tmp_path: Path) -> None:
    """Two builds may fetch the same package at once: the second must not set aside the copy
    the first just put in place (it may be linking from it); a copy cut short, or one of
    another archive (its lock file says so), is replaced."""
    import types

    cache, staging = tmp_path / "pkgs", tmp_path / "pkgs" / ".pyve-fetch-x"
    staging.mkdir(parents=True)
    sha = bytes(range(32))
    record = types.SimpleNamespace(file_name="evil-1.0-0.tar.bz2", sha256=sha,
                                   url="https://example.invalid/noarch/evil-1.0-0.tar.bz2")
    entry = cache / "evil-1.0-0"

    _fetched_copy(cache, "evil-1.0-0", "first")  # whole, no lock file: linked as it is
    rattler_cache._put_in_cache(_fetched_copy(staging, "a", "second"), record, cache, staging)
    assert (entry / "info" / "which").read_text() == "first"

    (entry.with_name("evil-1.0-0.lock")).write_bytes((1).to_bytes(8, "big") + bytes(32))
    rattler_cache._put_in_cache(_fetched_copy(staging, "b", "third"), record, cache, staging)
    assert (entry / "info" / "which").read_text() == "third"  # another archive's: replaced
    assert entry.with_name("evil-1.0-0.lock").read_bytes()[8:] == sha

    (entry / "info" / "paths.json").unlink()  # cut short
    (entry / "info" / "index.json").unlink()
    rattler_cache._put_in_cache(_fetched_copy(staging, "c", "fourth"), record, cache, staging)
    assert (entry / "info" / "which").read_text() == "fourth"


def test_ctrl_c_during_an_engine_call_is_never_lost() -> None:
    """asyncio.run turns SIGINT into a cancel of its task; a future that completes its work
    whatever the cancel (as a rattler install may) swallowed the interrupt, and the build
    went on to exit 0. pyve's runner raises it where it lands."""
    import asyncio
    import os
    import signal
    import threading

    async def finishes_whatever_the_cancel() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # the work goes on to its end, and returns
        return "done"

    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            rattler_run._run(finishes_whatever_the_cancel())
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

def test_explicit_list_puts_each_package_after_its_dependencies(local_channel: Path,
                                                                tmp_path: Path) -> None:
    """micromamba links an @EXPLICIT list in order: pip before python fails. Whatever order
    the records come in, a dependency comes first; a cycle does not loop."""
    from pyve.engines.micromamba import explicit_text

    records = engine.solve([chan(local_channel)], ["bar", "pip", "python"], "linux-64")
    for given in (records, records[::-1]):
        order = [line.rsplit("/", 1)[1].rsplit("-", 2)[0] for line in
                 explicit_text(given).splitlines()[1:]]
        assert sorted(order) == sorted(names(records))
        assert order.index("python") < order.index("pip")
        assert order.index("libfoo") < order.index("foo-py") < order.index("bar")
    cyclic = tmp_path / "cyclic"
    conda_fixtures.build_package(cyclic, "noarch", "ping", "1", depends=["pong"],
                                 noarch="generic")
    conda_fixtures.build_package(cyclic, "noarch", "pong", "1", depends=["ping >=1"],
                                 noarch="generic")
    conda_fixtures.reindex(cyclic)
    both = engine.solve([chan(cyclic)], ["ping"], "linux-64")
    assert len(explicit_text(both).splitlines()) == 3


def test_solve_all_reads_each_index_once_and_solves_every_platform(
        local_channel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock's platforms are solved at once, from one gateway (noarch's index is read
    once, not per platform), each as `solve` alone would."""
    platforms = ["linux-64", "osx-64", "osx-arm64", "win-64"]
    alone = {p: engine.solve([chan(local_channel)], ["bar"], p) for p in platforms}
    made: list[object] = []
    real_gateway = engine._gateway
    monkeypatch.setattr(engine, "_gateway", lambda: made.append(1) or real_gateway())
    together = engine.solve_all([chan(local_channel)], ["bar"], platforms)
    assert len(made) == 1
    assert list(together) == platforms
    assert {p: [r.url for r in rs] for p, rs in together.items()} == \
        {p: [r.url for r in rs] for p, rs in alone.items()}


def test_solve_all_names_the_first_platform_that_fails(local_channel: Path) -> None:
    with pytest.raises(PyveError) as info:
        engine.solve_all([chan(local_channel)], ["bar", "libfoo<1"], ["osx-64", "win-64"])
    assert info.value.message.startswith("cannot solve the conda environment for osx-64: ")
