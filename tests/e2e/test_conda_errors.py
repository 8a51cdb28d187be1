"""Every environment.yml problem is one `error:` line naming the file (and the package or
channel) plus what to do; non-zero exit; no traceback; the previous env and lock intact."""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support import conda_fixtures
from tests.support.conda_helpers import (
    assert_one_error,
    env_dirs,
    envfile_text,
    served_over_http,
    snapshot,
)

pytestmark = linux_only


def good_text(channel: Path, case: str) -> str:
    if case == "pip-failure":
        return envfile_text(channel, ["python", "bar", "pip"], pip=["beta"],
                            platforms=["linux-64"])
    return envfile_text(channel, ["bar"], platforms=["linux-64"])  # fast: no python, no pip


def broken(channel: Path, good: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        ("yaml", f"channels: [{channel}]\ndependencies:\n  - python\n   - bar: [\n",
         ("environment.yml:4", "invalid YAML")),
        ("no-dependencies", f"channels: [{channel}]\nname: x\n",
         ("environment.yml", "'dependencies'")),
        ("invalid-spec", good.replace("  - bar\n", '  - bar\n  - "nump y"\n'),
         ("environment.yml", "nump y")),
        ("unreachable-channel", good.replace(str(channel), "file:///nonexistent/pyve-chan"),
         ("environment.yml", "file:///nonexistent/pyve-chan")),
        ("unsatisfiable", good.replace("  - bar\n", "  - bar\n  - needs-missing\n"),
         ("environment.yml", "needs-missing", "does-not-exist")),
        ("pip-failure", good.replace("    - beta\n", "    - beta\n    - nosuchpkg\n"),
         ("environment.yml", "nosuchpkg", "No matching distribution")),
    ]


@pytest.mark.parametrize("case", ["yaml", "no-dependencies", "invalid-spec",
                                  "unreachable-channel", "unsatisfiable", "pip-failure"])
def test_error_is_one_line_and_changes_nothing(project: Path, pyve: PyveRunner,
                                               local_channel: Path, case: str) -> None:
    good = good_text(local_channel, case)
    (project / "environment.yml").write_text(good)
    pyve("init", check=True)
    built = snapshot(project)
    _, text, needles = next(c for c in broken(local_channel, good) if c[0] == case)
    envs = env_dirs(project)
    (project / "environment.yml").write_text(text)
    result = pyve("build")
    assert_one_error(result, *needles)
    assert "hint:" in result.stderr  # what to do
    assert env_dirs(project) == envs
    after = snapshot(project)
    assert after == built, sorted(set(after.items()) ^ set(built.items()))


def _without_paths_json(archive: Path) -> None:
    """Make a built .tar.bz2 package an old-style one: info/files only, no info/paths.json."""
    with tarfile.open(archive, "r:bz2") as src:
        kept = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()
                if m.name != "info/paths.json"]
    with tarfile.open(archive, "w:bz2") as dst:
        for member, data in kept:
            dst.addfile(member, io.BytesIO(data) if data is not None else None)


def _hostile_package(channel: Path, case: str, outside: Path) -> tuple[str, str]:
    """One package `evil` that names a path outside the env; (its file name, the path)."""
    path = "share/../../../../dotdot.txt" if case == "dotdot" else str(outside / "abs.txt")
    archive = conda_fixtures.build_package(channel, "noarch", "evil", "1.0",
                                           files={"share/evil/ok.txt": b"ok\n",
                                                  path: b"owned\n"}, noarch="generic")
    if case == "old-style":
        _without_paths_json(archive)
    if case == "conda-format":
        archive = conda_fixtures.to_conda_format(archive)
    conda_fixtures.reindex(channel)
    return archive.name, path


@pytest.mark.parametrize("case", ["absolute", "conda-format", "old-style", "dotdot"])
def test_hostile_package_is_refused_in_one_line(project: Path, pyve: PyveRunner,
                                                tmp_path: Path, case: str) -> None:
    """A package that installs a path outside the env: py-rattler panicked (exit 134, a Rust
    backtrace) on an absolute one, and tried to copy a `..` one from outside its cache.
    Refused before the engine sees it, in one line naming the package and the path."""
    channel = tmp_path / "hostile"
    outside = tmp_path / "outside"
    outside.mkdir()
    name, path = _hostile_package(channel, case, outside)
    (project / "environment.yml").write_text(
        envfile_text(channel, ["evil"], platforms=["linux-64"]))
    for _ in range(2):  # the second time, nothing is left in the cache to bypass the check
        result = pyve("build")
        assert result.returncode == 1, result.output
        assert "panicked" not in result.output and "RUST_BACKTRACE" not in result.output
        assert_one_error(result, f"package {name} is malformed: ", path)
    assert not list(outside.iterdir()) and not (tmp_path / "dotdot.txt").exists()
    assert not list(project.glob(".pyve/envs/*/share/evil"))



@pytest.mark.parametrize("over_http", [False, True], ids=["file", "http"])
def test_hostile_package_replacing_a_cached_one_is_refused(project: Path, pyve: PyveRunner,
                                                          tmp_path: Path,
                                                          over_http: bool) -> None:
    """The channel replaces a package the cache already holds with a hostile archive of the
    same name: the check reads the new archive, not the cached copy of the old one (rattler
    would extract the new one and link it)."""
    channel = tmp_path / "chan"
    outside = tmp_path / "outside"
    outside.mkdir()
    conda_fixtures.build_package(channel, "noarch", "evil", "1.0", noarch="generic",
                                 files={"share/evil/ok.txt": b"ok\n"})
    conda_fixtures.reindex(channel)
    with contextlib.ExitStack() as stack:
        url = f"{stack.enter_context(served_over_http(tmp_path))}/chan" if over_http \
            else str(channel)
        (project / "environment.yml").write_text(
            envfile_text(url, ["evil"], platforms=["linux-64"]))
        assert pyve("build").returncode == 0
        name, path = _hostile_package(channel, "absolute", outside)  # same file name
        conda_fixtures.reindex(channel, force=True)
        # solved again: no lock pins the old archive, no repodata cached from before
        (project / "conda-lock.yml").unlink()
        shutil.rmtree(tmp_path / "home" / ".cache" / "rattler", ignore_errors=True)
        result = pyve("build", "--force", "--yes")
    assert "panicked" not in result.output and "RUST_BACKTRACE" not in result.output
    assert_one_error(result, f"package {name} is malformed: ", path)
    assert not list(outside.iterdir())

def test_hostile_package_from_an_http_channel_is_refused_in_one_line(
        project: Path, pyve: PyveRunner, tmp_path: Path) -> None:
    """The same absolute path, from a channel served over http: rattler downloads such a
    package itself and panicked on it (exit 134), after pyve's check of local archives and
    cache copies had nothing to read. pyve now fetches it into the cache first, checked."""
    channel = tmp_path / "hostile"
    outside = tmp_path / "outside"
    outside.mkdir()
    name, path = _hostile_package(channel, "absolute", outside)
    with served_over_http(tmp_path) as server:
        (project / "environment.yml").write_text(
            envfile_text(f"{server}/hostile", ["evil"], platforms=["linux-64"]))
        for _ in range(2):  # the refused package was not kept in the cache
            result = pyve("build")
            assert result.returncode == 1, result.output
            assert "panicked" not in result.output and "RUST_BACKTRACE" not in result.output
            assert_one_error(result, f"package {name} is malformed: ", path)
    assert not list(outside.iterdir())
    assert not list(project.glob(".pyve/envs/*/share/evil"))
    cache = project.parent / "home" / ".cache" / "pyve" / "pkgs"
    assert not list(cache.glob("evil-*")) and not list(cache.glob(".pyve-fetch-*"))
