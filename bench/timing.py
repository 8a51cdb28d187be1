"""What every bench mode shares: running a command, timing pairs interleaved, printing rows."""

from __future__ import annotations

import re
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


_RATIO = re.compile(r"^(<=?) ?([0-9.]+)x$")
_MS = re.compile(r"^(<=?) ?([0-9.]+) ms$")


def held(a: float, b: float, target: str) -> bool | None:
    """Whether a row meets its target: `<= 1.3x` (pyve / baseline) or `< 50 ms` (pyve's time);
    None for a row without one (a reference row, or words such as "(no lock)")."""
    for pattern, value in ((_RATIO, a / b if b else float("inf")), (_MS, a * 1000)):
        found = pattern.match(target.strip())
        if found:
            limit = float(found.group(2))
            return value <= limit if found.group(1) == "<=" else value < limit
    return None


def summary(rows: list[tuple[str, float, float, str]] | None = None) -> str:
    """Which targets hold, then every row as a markdown table for docs/performance.md: the
    tables there are regenerated from this, one quiet run."""
    rows = ROWS if rows is None else rows
    judged = [(what, held(a, b, target)) for what, a, b, target in rows]
    met = [what.strip() for what, ok in judged if ok is True]
    missed = [what.strip() for what, ok in judged if ok is False]
    lines = [f"targets: {len(met)} met, {len(missed)} not met"]
    lines += [f"  not met: {what}" for what in missed]
    lines += ["", "| measurement | pyve | baseline | ratio | target | |",
              "|---|---|---|---|---|---|"]
    for (what, a, b, target), (_, ok) in zip(rows, judged, strict=True):
        mark = {True: "met", False: "**not met**", None: ""}[ok]
        ratio = f"{a / b:.2f}x" if b else "-"
        lines.append(f"| {what.strip()} | {_shown(a)} | {_shown(b)} | {ratio} | {target} "
                     f"| {mark} |")
    return "\n".join(lines)


def _shown(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"
