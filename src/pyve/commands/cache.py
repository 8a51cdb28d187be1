"""`pyve cache clean|info`: the shared conda package cache (micromamba's `clean --all`), emptied
only where pyve marked it as its own (engines/pkgcache.py)."""

from __future__ import annotations

from argparse import Namespace

from pyve import ui
from pyve.engines.pkgcache import disk_usage
from pyve.ui import human


def run(args: Namespace) -> int:
    from pyve.engines import pkgcache

    cache = pkgcache.default_cache_dir()
    if args.action == "info":
        size = human(disk_usage(cache)) if cache.exists() else "empty"
        ui.info(f"package cache: {cache} ({size})")
        return 0
    freed = pkgcache.clean(cache)
    ui.info(f"Emptied the package cache {cache}: freed {human(freed)}.")
    return 0
