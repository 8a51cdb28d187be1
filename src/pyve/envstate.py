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


def save(root: Path, stage: str, contents: Contents) -> None:
    atomic_write_text(record_path(root, stage), json.dumps(contents, sort_keys=True) + "\n")


def load(root: Path, stage: str) -> Contents | None:
    try:
        data = json.loads(record_path(root, stage).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return data
    return None


def changes(before: Contents, now: Contents) -> list[str]:
    """["acc-app installed", "requests 2.31.0 -> 2.0", "six removed"], conda names plain."""
    said = []
    for key in sorted({*before, *now}):
        name = key.removeprefix("conda:")
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
    return "env changed outside pyve: " + ", ".join(said[:limit]) + more
