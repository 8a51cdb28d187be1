"""The venv backend's checks behind `pyve doctor` (health.py has the Check type and the
checks every backend shares): the env against requirements.lock.txt, and the lock fresh."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pyve.backends.venv import piplock
from pyve.errors import PyveError
from pyve.health import ERROR, OK, WARN, Check


def venv_matches_lock(root: Path, env_dir: Path, lock_name: str,
                      by_hand: Iterable[str] = ()) -> Check:
    """requirements.lock.txt's entries that apply here == what is installed, each from a
    file the lock lists where pyve saw the file (read in-process, as pip freeze). What was
    installed by hand (`by_hand`) is the user's: the by-hand check lists it."""
    lock = root / lock_name
    if not lock.is_file():
        return Check("lock", WARN, f"{lock_name} is missing", "run `pyve lock`")
    try:
        python = env_dir / "bin" / "python"
        mine = {f"{name} " for name in by_hand}
        diffs = [d for d in piplock.differences(root, python)
                 if not d.endswith("installed file never checked against the lock")
                 and not (d.endswith(" installed, not locked")
                          and any(d.startswith(m) for m in mine))]
        count = len(piplock.applicable(piplock.read_lock(lock), python))
    except PyveError as exc:
        return Check("lock", ERROR, exc.message, exc.hint)
    if diffs:
        more = f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""
        return Check("lock", ERROR, f"environment differs from {lock_name}: "
                     + "; ".join(diffs[:3]) + more,
                     "`pyve build --frozen` makes the env exactly the lock; a package you "
                     "need belongs in your requirements (then `pyve build`)")
    return Check("lock", OK, f"environment matches {lock_name} ({count} packages)")



def venv_lock_fresh(root: Path, sources: list[str], lock_name: str) -> Check:
    """requirements.lock.txt and the pylock.toml pyve wrote beside it hold for the sources."""
    lock = root / lock_name
    if not lock.is_file():
        return Check("lock-fresh", WARN, f"{lock_name} is missing", "run `pyve lock`")
    try:
        piplock.read_lock(lock)  # a damaged entry: never a tick
    except PyveError as exc:
        return Check("lock-fresh", ERROR, exc.message, exc.hint)
    problems = piplock.lock_problems(root, sources)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("lock-fresh", WARN, problems[0] + more,
                     "run `pyve lock`" if "does not say" in problems[0] else "run `pyve build`")
    also = f" (and {piplock.PYLOCK_FILE})" if piplock.PYLOCK_NOTE in lock.read_text(
        encoding="utf-8") else ""
    return Check("lock-fresh", OK, f"{lock_name} is fresh{also}")
