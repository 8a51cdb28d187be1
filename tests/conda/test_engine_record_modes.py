"""The package records rattler writes (conda-meta/*.json, mode 0600) follow the umask, as
micromamba's do: an env restored from a cache under another user stays readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyve.engines import rattler as engine


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.mark.parametrize("umask", [0o022, 0o002], indirect=True)
def test_conda_meta_records_follow_the_umask(local_channel: Path, tmp_path: Path,
                                             cache_dir: Path, umask: int) -> None:
    records = engine.solve([str(local_channel)], ["bar"], "linux-64")
    prefix = tmp_path / "env"
    engine.install(records, prefix, cache_dir, ["bar"])
    metas = sorted((prefix / "conda-meta").glob("*.json"))
    assert len(metas) == 3
    modes = {meta.name: stat.S_IMODE(meta.stat().st_mode) for meta in metas}
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
