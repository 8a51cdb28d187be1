"""The checks behind `pyve doctor`. Each returns a Check (data only); doctor.py prints them.

Severity contract (tested, documented in docs/troubleshooting.md):
- error: the environment is missing or broken, or differs from what the lock says; the
  next `pyve run` may not do what the lock promises. Any error -> exit 1.
- warn: something to tidy or refresh (a stale lock, unused envs, a readable .env); exit 0.
- ok: fine; info lines (disk use) are ok too.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pyve.engines.pkgcache import disk_usage
from pyve.ui import human

OK, WARN, ERROR = "ok", "warn", "error"
REPAIR = "pyve build --repair"  # reinstalls exactly the packages whose files changed


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | error
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the interpreter ------------------------------------------------------------------------

def interpreter(env_dir: Path, venv: bool, pyvenv_cfg: Mapping[str, str] | None = None) -> Check:
    """The env's python runs, and (venv) is the Python `pyvenv_cfg` (the venv backend reads
    its pyvenv.cfg) says it is."""
    python = env_dir / "bin" / "python"
    if not python.exists() and not python.is_symlink():
        if venv:
            return Check("interpreter", ERROR, f"{python} is missing",
                         "run `pyve build --force` to recreate the environment")
        return Check("interpreter", OK, "no python in this conda environment")
    failure = ""
    try:
        done: subprocess.CompletedProcess[str] | None = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=60, env=_clean_env(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done, failure = None, str(exc)
    if done is None or done.returncode != 0:
        why = failure if done is None else (done.stderr.strip().splitlines() or ["failed"])[-1]
        return Check("interpreter", ERROR, f"{python} does not run: {why}",
                     "its base interpreter was probably removed or upgraded; "
                     "run `pyve build --force`")
    version = done.stdout.strip()
    if venv:
        cfg = pyvenv_cfg or {}
        recorded = cfg.get("version") or cfg.get("version_info", "")
        if recorded and recorded != version:
            return Check("interpreter", ERROR,
                         f"pyvenv.cfg says python {recorded}, the interpreter is {version}",
                         "run `pyve build --force` to rebuild on the current interpreter")
        home = cfg.get("home")
        if home and not Path(home).is_dir():
            return Check("interpreter", ERROR, f"pyvenv.cfg home {home} is gone",
                         "run `pyve build --force`")
    return Check("interpreter", OK, f"python {version} runs")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}


# --- packages' files ------------------------------------------------------------------------


def changed_packages(changed: dict[str, list[str]], shown: int = 3) -> str:
    """`bar (2 files, e.g. lib/x.py); ... (+N more packages)`, for conda's and pip's checks."""
    parts = [f"{name} ({len(files)} file{'s' if len(files) > 1 else ''}, e.g. {files[0]})"
             for name, files in sorted(changed.items())]
    more = f" (+{len(parts) - shown} more packages)" if len(parts) > shown else ""
    return "; ".join(parts[:shown]) + more


# --- Python distributions' files ------------------------------------------------------------

def distributions_intact(env_dir: Path, deep: bool, skip: Iterable[str] = ()) -> Check:
    """Each distribution's files in site-packages are still what its RECORD lists (but
    `skip`'s, which another check answers for): missing or another size (one stat a file);
    with `deep`, the sha256 as well."""
    from pyve.installers.distinfo import changed_files

    changed = changed_files(env_dir, deep, skip)
    how = "size and sha256" if deep else "size"
    if changed:
        return Check("package-files", ERROR,
                     f"files in site-packages changed since their packages were installed "
                     f"({how}): " + changed_packages(changed),
                     f"`{REPAIR}` reinstalls exactly those packages")
    return Check("package-files", OK, "every installed package's files match its RECORD ("
                 + how + ("" if deep else "; `pyve doctor --deep` compares sha256") + ")")


# --- installed by hand ----------------------------------------------------------------------


def by_hand(kept: dict[str, str], roots: list[str], where: str) -> Check:
    """What the user installed into the env by hand (`roots`: what they asked for, the rest
    pulled in): kept by a build, not stale, but neither the lock nor a teammate's env has
    it."""
    from pyve.installers import prune

    if not kept:
        return Check("by-hand", OK, "nothing installed by hand")
    return Check("by-hand", WARN, f"installed by hand, not in {where}: "
                 f"{prune.by_hand_text(kept, roots)}; builds keep it, the lock does not have it",
                 f"`pyve add {' '.join(n.removeprefix('conda:') for n in roots)}` records "
                 "it; `pyve build --exact` removes it")


# --- housekeeping ---------------------------------------------------------------------------

def unused(envs: list[str]) -> Check:
    if envs:
        return Check("unused-envs", WARN, f"{len(envs)} environment(s) under .pyve/envs/ "
                     f"that nothing uses: {', '.join(envs[:3])}",
                     "`pyve purge --unused` removes them")
    return Check("unused-envs", OK, "no unused environments under .pyve/envs/")


def disk(env_dir: Path | None, cache: Path) -> Check:
    parts = []
    if env_dir is not None and env_dir.is_dir():
        parts.append(f"environment {human(disk_usage(env_dir))}")
    parts.append(f"package cache {human(disk_usage(cache))} ({cache})" if cache.is_dir()
                 else "package cache empty")
    return Check("disk", OK, "; ".join(parts))


def dotenv(root: Path) -> Check:
    path = root / ".env"
    if not path.is_file():
        return Check("dotenv", OK, "no .env file")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("dotenv", WARN, f".env is readable by others (mode {mode:04o})",
                     "it usually holds secrets: `chmod 600 .env`")
    return Check("dotenv", OK, f".env is private (mode {mode:04o})")

