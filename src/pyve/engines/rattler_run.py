"""Running py-rattler from sync code: its coroutines with Ctrl-C honoured, and what it says
while it downloads and links, as one phrase. Shared by the solve/install engine
(engines/rattler.py) and the package fetch (engines/rattler_cache.py).
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import threading
import time
from collections.abc import Callable
from typing import Any


def _run(coro: Any) -> Any:
    """asyncio.run, with Ctrl-C raised where it lands. asyncio.run's own handler only cancels
    the task, and the interrupt is lost when the task finishes anyway (a rattler future that
    completes its work whatever the cancel): the build went on and exited 0. asyncio leaves
    SIGINT alone when a handler other than Python's default is set."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler or \
            threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)  # SIGINT ignored or handled elsewhere: as they say
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        return asyncio.run(coro)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_interrupt(signum: int, frame: Any) -> None:
    signal.default_int_handler(signum, frame)


class _Reporter:
    """rattler's install callbacks (its InstallerReporter protocol, the methods used here)
    as one phrase: downloads with bytes and rate, then links. rattler calls these from its
    own threads; `say` must be thread-safe (rich's is)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.total = 0
        self.downloads: dict[int, tuple[int, int]] = {}  # token -> (bytes so far, size)
        self.tokens = itertools.count()  # next() is atomic: starts may come from two threads
        self.downloaded = 0
        self.linked = 0
        self.first_byte: float | None = None
        self.last_byte = 0.0
        self.said = 0.0

    def on_transaction_start(self, total_operations: int) -> None:
        self.total = total_operations
        self.say(f"installing {total_operations} packages")

    def on_download_start(self, cache_entry: int) -> int:
        token = next(self.tokens)
        self.downloads[token] = (0, 0)
        self.first_byte = self.first_byte or time.monotonic()
        return token

    def on_download_progress(self, download_idx: int, progress: int, total: int | None) -> None:
        self.downloads[download_idx] = (progress, total or 0)
        self.last_byte = now = time.monotonic()
        if now - self.said >= 0.2:  # callbacks come per chunk: a few phrases a second
            self.said = now
            self._say_downloads()

    def on_download_completed(self, download_idx: int) -> None:
        self.downloaded += 1
        self._say_downloads()

    def _say_downloads(self) -> None:
        from rich.filesize import decimal

        done = sum(d for d, _ in self.downloads.values())
        size = sum(t for _, t in self.downloads.values())
        # the rate while bytes came in (links running between downloads do not lower it)
        rate = done / max(self.last_byte - (self.first_byte or self.last_byte), 0.001)
        self.say(f"downloading {self.downloaded}/{len(self.downloads)} packages "
                 f"{decimal(done)}/{decimal(size)} {decimal(int(rate))}/s")

    def on_link_start(self, operation: int, package_name: str) -> int:
        # rattler links several at once: say the count of those done
        self.say(f"linking {package_name} ({self.linked}/{self.total} linked)")
        return operation

    def on_link_complete(self, index: int) -> None:
        self.linked += 1
