"""`--offline`: no network at all. The remote cache is not looked at, uv installs from its
cache only, a conda solve or fetch that needs a channel's server refuses in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.errors import PyveError
from tests.conftest import PyveRunner
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


def test_offline_conda_solve_from_a_server_refuses_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pyve.engines import rattler

    monkeypatch.setenv("PYVE_OFFLINE", "1")
    with pytest.raises(PyveError, match="--offline: solving needs the index of channel "
                                        "https://conda.anaconda.org/conda-forge"):
        rattler.solve(["https://conda.anaconda.org/conda-forge"], ["python"], "linux-64")
