"""What every bench mode shares: running a command, timing pairs interleaved, printing rows."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROWS: list[tuple[str, float, float, str]] = []


def sh(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def out(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    """stdout and stderr of a command that must succeed (for pyve -v's stage times)."""
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(map(str, cmd))}\n"
                         + done.stdout[-3000:])
    return done.stdout


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pair(a: Callable[[], object], b: Callable[[], object], reps: int,
         prep: Callable[[], object] | None = None) -> tuple[float, float]:
    """Medians of a and b, run interleaved (a, b, a, b, ...) so drift hits both alike."""
    ta, tb = [], []
    for _ in range(reps):
        if prep:
            prep()
        ta.append(timed(a))
        if prep:
            prep()
        tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb)


def row(what: str, a: float, b: float, target: str = "") -> None:
    ROWS.append((what, a, b, target))
    print(f"  {what:<58} {a * 1000:9.1f} ms {b * 1000:9.1f} ms {a / b:6.2f}x {target}",
          flush=True)


def header() -> None:
    print(f"  {'measurement':<58} {'pyve':>12} {'baseline':>12} {'ratio':>7} target")
