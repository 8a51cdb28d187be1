"""`--offline`: no network at all. The remote cache is not looked at, uv installs from its
cache only, a conda solve or fetch that needs a channel's server refuses in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyve.errors import PyveError
from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import assert_one_error, envfile_text, served_over_http, snapshot
from tests.support.helpers import stage_line
from tests.support.remote_stores import RemoteStore

# an index nothing listens on: a connection attempt would be refused (and said by uv)
UNREACHABLE = {"PIP_NO_INDEX": "false", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
               "PIP_FIND_LINKS": ""}


def test_offline_names_what_the_cache_lacks_and_reaches_nothing(
        project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("--offline", "build", "-y", env={
        **UNREACHABLE, **remote_store.down_env, "PYVE_REMOTE_CACHE": remote_store.url})
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "beta was not found in the cache" in errors[0], result.output
    assert "remote cache" not in result.output  # not even tried
    assert "tcp connect" not in result.output and "127.0.0.1:9" not in result.output


def test_offline_build_from_local_files_works(project: Path, pyve: PyveRunner,
                                              remote_store: RemoteStore) -> None:
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("build", "--offline", "-y", env=_remote_down(remote_store), check=True)
    assert "ran" in result.stdout and "remote cache" not in result.output


def _remote_down(store: RemoteStore) -> dict[str, str]:
    return {**store.down_env, "PYVE_REMOTE_CACHE": store.url}


def test_offline_conda_solve_without_a_cached_index_refuses_at_once(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pyve.engines import rattler

    monkeypatch.setenv("PYVE_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # rattler's repodata cache: empty
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RATTLER_CACHE_DIR", raising=False)
    with pytest.raises(PyveError, match="--offline: the index of channel "
                                        "https://conda.anaconda.org/conda-forge is not in the "
                                        "local cache"):
        rattler.solve(["https://conda.anaconda.org/conda-forge"], ["python"], "linux-64")


@linux_only
def test_offline_conda_build_from_an_http_channel_reaches_nothing(
        project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    """A channel on a server: with the lock and a full package cache, `--offline` builds
    without one request; with the cache emptied, or a spec the lock does not answer, it
    refuses in one line naming what it lacks, and nothing of the env changes."""
    cache = project.parent / "home" / ".cache" / "pyve" / "pkgs"
    with served_over_http(local_channel.parent) as server:
        url = f"{server}/{local_channel.name}"
        (project / "environment.yml").write_text(
            envfile_text(url, ["foo-py"], platforms=["linux-64"]))
        pyve("build", "-y", check=True)  # online: the lock, the cache
        asked = len(server.requested)
        forced = pyve("--offline", "build", "--force", env={})
        assert forced.returncode == 0, forced.output
        assert len(server.requested) == asked, forced.output  # from the lock and the cache alone
        shutil.rmtree(cache)
        for env in project.glob(".pyve/envs/*"):
            shutil.rmtree(env) if env.is_dir() else env.unlink()
        lacking = pyve("--offline", "build")
        assert_one_error(lacking, "--offline: ", "package(s) are not in the package cache",
                         "foo-py-1.5-0")
        assert len(server.requested) == asked
        pyve("build", check=True)  # online again: fetched back
        asked = len(server.requested)
        (project / "environment.yml").write_text(
            envfile_text(url, ["foo-py >=1"], platforms=["linux-64"]))
        resolved = pyve("--offline", "build")  # a new spec whose index is cached: solved
        assert resolved.returncode == 0, resolved.output
        assert "ran" in stage_line(resolved.stdout, "conda-solve")
        assert len(server.requested) == asked, server.requested[asked:]
        # a new spec, offline: solved from the index the online builds cached, however old
        # (as micromamba --offline does); rattler caches sharded repodata per package, and
        # bar's shard was never fetched, so that is named
        before = snapshot(project)
        (project / "environment.yml").write_text(
            envfile_text(url, ["foo-py", "bar"], platforms=["linux-64"]))
        asked = len(server.requested)
        new_spec = pyve("--offline", "build")
        assert_one_error(new_spec, f"--offline: the index of channel {url} is not in the "
                         "local cache (the shard for package 'bar' is not in the cache)")
        assert len(server.requested) == asked
        assert snapshot(project) == before  # env, lock and records as they were
        # no index cached at all: one line naming the channel
        shutil.rmtree(project.parent / "home" / ".cache" / "rattler")
        no_index = pyve("--offline", "build")
        assert_one_error(no_index, f"--offline: the index of channel {url}",
                         "is not in the local cache")
        assert len(server.requested) == asked and snapshot(project) == before
