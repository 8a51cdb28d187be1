"""What an environment holds, read back from its disk: conda packages (conda-meta records) and
Python distributions (site-packages' *.dist-info), as name -> version.

The stage that installs into an env records this when it finishes (graph.py). A package
pyve put there that is removed or changed behind pyve's back -- `micromamba remove`, `pip
install alpha==1.0` -- makes the stage stale until a build puts it back: "env changed outside
pyve: alpha 2.0 -> 1.0". A package added by hand (`pyve run pip install ipdb`, `micromamba
install numpy`) is the user's: it makes nothing stale, and once a build has named it
(BY_HAND_FILE) it is left out of the record, so its own upgrades and removals are the user's
too. Reading is a directory listing, plus that one small file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pyve.fsutil import atomic_write_text

Contents = dict[str, str]
# In the env, like pip's own files: the packages installed by hand that a build has named
# (name -> version; conda packages as conda:name). It dies with the env.
BY_HAND_FILE = ".pyve-by-hand.json"


def site_packages(env: Path) -> list[Path]:
    return sorted(env.glob("lib/python*/site-packages"))


def distributions(env: Path) -> Contents:
    """canonical name -> version of every *.dist-info in the env's site-packages."""
    found: Contents = {}
    for site in site_packages(env):
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name[: -len(".dist-info")].partition("-")
                found[_canonical(dist)] = version
    return found


def conda_packages(env: Path) -> Contents:
    """conda:name -> version-build of every conda-meta record (name-version-build.json)."""
    try:
        names = os.listdir(env / "conda-meta")
    except OSError:
        return {}
    found: Contents = {}
    for name in names:
        if name.endswith(".json"):
            parts = name[: -len(".json")].rsplit("-", 2)
            if len(parts) == 3:
                found[f"conda:{parts[0]}"] = f"{parts[1]}-{parts[2]}"
    return found


def _canonical(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


def record_path(root: Path, stage: str) -> Path:
    return root / ".pyve" / "stamps" / f"{stage}.contents.json"


# The record's one entry that is not a package: which env it describes (Stage.env_identity),
# as JSON text. No conda ("conda:...") or Python distribution name holds a second colon.
_IDENTITY_KEY = "pyve:env:identity"
NEW_ENVIRONMENT = "new environment"
OUTSIDE = "env changed outside pyve"


def save(root: Path, stage: str, contents: Contents,
         identity: dict[str, Any] | None = None) -> None:
    data = dict(contents)
    if identity is not None:
        data[_IDENTITY_KEY] = json.dumps(identity, sort_keys=True)
    atomic_write_text(record_path(root, stage), json.dumps(data, sort_keys=True) + "\n")


def load(root: Path, stage: str) -> Contents | None:
    """What the env held when `stage` last finished (its packages only)."""
    record = _load_record(root, stage)
    return None if record is None else \
        {k: v for k, v in record.items() if k != _IDENTITY_KEY}


def load_identity(root: Path, stage: str) -> dict[str, Any] | None:
    """Which env that record describes (None: not said, as in records before it was)."""
    text = (_load_record(root, stage) or {}).get(_IDENTITY_KEY)
    try:
        identity = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return identity if isinstance(identity, dict) else None


def _load_record(root: Path, stage: str) -> dict[str, str] | None:
    try:
        data = json.loads(record_path(root, stage).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return data
    return None


def by_hand(env: Path) -> Contents:
    """The packages installed by hand that a build has named (BY_HAND_FILE)."""
    try:
        data = json.loads((env / BY_HAND_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return data
    return {}


def save_by_hand(env: Path, kept: Contents) -> None:
    path = env / BY_HAND_FILE
    if kept:
        atomic_write_text(path, json.dumps(kept, sort_keys=True) + "\n")
    else:
        path.unlink(missing_ok=True)


def without_by_hand(env: Path, contents: Contents) -> Contents:
    """What pyve answers for in the env: its contents less the packages kept by hand."""
    kept = by_hand(env)
    return {k: v for k, v in contents.items() if k not in kept} if kept else contents


def added(before: Contents | None, now: Contents) -> Contents:
    """What the env holds that the record does not: installed behind pyve's back."""
    return {k: v for k, v in now.items() if before is None or k not in before}


def new_environment(before: dict[str, Any], now: dict[str, Any]) -> str:
    """"new environment: specs changed": the record describes another env than the one the
    stage installs into now, so its packages are no news about this one."""
    changed = [k for k in sorted({*before, *now}) if before.get(k) != now.get(k)]
    return f"{NEW_ENVIRONMENT}: " + ", ".join(f"{k} changed" for k in changed)


def changes(before: Contents, now: Contents) -> list[str]:
    """["requests 2.31.0 -> 2.0", "six removed"]: what pyve put in the env and is no longer
    there as it was, conda names plain, each name once (a conda package that is also a
    distribution is said as the conda package). Additions are the user's (by_hand), never
    stale."""
    said = []
    named: set[str] = set()
    for key in sorted(before, key=lambda k: (k.removeprefix("conda:"), not k.startswith("conda:"))):
        name = key.removeprefix("conda:")
        if name in named or before.get(key) == now.get(key):
            continue
        named.add(name)
        if key not in now:
            said.append(f"{name} removed")
        elif before[key] != now[key]:
            said.append(f"{name} {before[key]} -> {now[key]}")
    return said


def changed(before: Contents | None, now: Contents) -> list[str]:
    """The distributions pyve put in the env that are of another version now: a restore
    takes them out before the install puts back what is required."""
    if before is None:
        return []
    return sorted(n for n, v in now.items()
                  if not n.startswith("conda:") and n in before and before[n] != v)


def describe(before: Contents, now: Contents, limit: int = 5) -> str:
    said = changes(before, now)
    more = f" and {len(said) - limit} more" if len(said) > limit else ""
    return f"{OUTSIDE}: " + ", ".join(said[:limit]) + more
