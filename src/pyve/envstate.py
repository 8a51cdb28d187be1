"""What an environment holds, read back from its disk: conda packages (conda-meta records) and
Python distributions (site-packages' *.dist-info), as name -> version.

The stage that installs into an env records this when it finishes (graph.py). Anything that
changes the env behind pyve's back -- `micromamba install/remove`, `pyve run pip install x` --
changes it, and the stage is stale until a build puts the env back: "env changed outside
pyve: acc-app installed". Reading is a directory listing: no file is opened.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pyve.fsutil import atomic_write_text

Contents = dict[str, str]


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
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return data
    return None


def new_environment(before: dict[str, Any], now: dict[str, Any]) -> str:
    """"new environment: specs changed": the record describes another env than the one the
    stage installs into now, so its packages are no news about this one."""
    changed = [k for k in sorted({*before, *now}) if before.get(k) != now.get(k)]
    return f"{NEW_ENVIRONMENT}: " + ", ".join(f"{k} changed" for k in changed)


def changes(before: Contents, now: Contents) -> list[str]:
    """["acc-app installed", "requests 2.31.0 -> 2.0", "six removed"], conda names plain,
    each name once: a conda package that is also a distribution (pip) is said as the
    conda package."""
    said = []
    named: set[str] = set()
    for key in sorted({*before, *now},
                      key=lambda k: (k.removeprefix("conda:"), not k.startswith("conda:"))):
        name = key.removeprefix("conda:")
        if name in named or before.get(key) == now.get(key):
            continue
        named.add(name)
        if key not in before:
            said.append(f"{name} installed")
        elif key not in now:
            said.append(f"{name} removed")
        elif before[key] != now[key]:
            said.append(f"{name} {before[key]} -> {now[key]}")
    return said


def outside(before: Contents | None, now: Contents) -> tuple[list[str], list[str]]:
    """(added, changed): distributions not in the record, and those of another version now;
    a restore takes them out before the install puts back what is required."""
    if before is None:
        return [], []
    dists = {n: v for n, v in now.items() if not n.startswith("conda:")}
    added = sorted(n for n in dists if n not in before)
    changed = sorted(n for n, v in dists.items() if n in before and before[n] != v)
    return added, changed


def describe(before: Contents, now: Contents, limit: int = 5) -> str:
    said = changes(before, now)
    more = f" and {len(said) - limit} more" if len(said) > limit else ""
    return f"{OUTSIDE}: " + ", ".join(said[:limit]) + more
