"""`pyve cache clean|info`: the shared conda package cache (micromamba's `clean --all`)."""

from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path

from pyve import ui


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover


def disk_usage(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def run(args: Namespace) -> int:
    from pyve.conda import engine

    cache = engine.default_cache_dir()
    if args.action == "info":
        size = human(disk_usage(cache)) if cache.exists() else "empty"
        ui.info(f"package cache: {cache} ({size})")
        return 0
    freed = engine.cache_clean(cache)
    ui.info(f"Emptied the package cache {cache}: freed {human(freed)}.")
    return 0
