"""Doctor checks that need no environment: what a conda env shares with the cache."""

from __future__ import annotations

import os
from pathlib import Path

from pyve import health
from pyve.backends.conda import checks


def test_shared_with_cache_counts_hard_links_once(tmp_path: Path) -> None:
    cache, env = tmp_path / "pkgs", tmp_path / "env"
    (cache / "pkg-1.0-0/lib").mkdir(parents=True)
    (env / "lib").mkdir(parents=True)
    linked = cache / "pkg-1.0-0/lib/big.so"
    linked.write_bytes(b"x" * 3000)
    os.link(linked, env / "lib/big.so")
    os.link(linked, env / "lib/big-again.so")  # the same inode twice: counted once
    (env / "lib/own.txt").write_bytes(b"y" * 1000)  # written into the env: not shared
    (env / "lib/link.so").symlink_to("big.so")  # a symlink is no file of its own
    check = checks.shared_with_cache(env, cache)
    assert check.name == "disk-shared" and check.status == health.OK
    assert check.message.startswith("2.9 KiB of the environment's 3.9 KiB (75%) are hard links")


def test_nothing_shared_without_a_cache(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.mkdir()
    (env / "a").write_bytes(b"a" * 10)
    os.link(env / "a", env / "b")  # a hard link inside the env is not the cache's
    assert checks.shared_with_cache(env, tmp_path / "no-cache").message.startswith(
        "0 B of the environment's 10 B (0%)")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "0 B of the environment's 0 B are" in checks.shared_with_cache(empty, env).message
