"""Remove what a requirements edit left behind; keep what the user installed by hand.

`pip install -r` only ever adds: a line taken out of requirements.txt leaves its package (and
the dependencies only it pulled in) in the env, and the lock, written from the env, would go
on pinning them. So after every install pyve records which packages the sources need (their
dependency closure, read from the env's own metadata), and the next install removes those
that were needed then and are not now. Anything pip or uv did not install (conda's packages)
and pip's own tools stay. A package installed by hand (`pyve run pip install ipdb`) was never
needed: it stays, as under `uv run` and `uv sync --inexact`, until `pyve build --exact` (or
`--frozen`, which makes the env the lock) takes it out. A package pyve installed whose version
was changed behind its back is put back (`restore`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pyve import envstate, ui
from pyve.fsutil import atomic_write_text
from pyve.installers import Installer, distinfo, pip, uninstaller
from pyve.reqfiles import (
    EDITABLE_OPTIONS,
    INCLUDE_OPTIONS,
    expand,
    logical_lines,
    option_value,
)

NEEDED_FILE = ".pyve-needed.json"  # in the env, like pip's hashes: it dies with the env
KEEP = {"pip", "setuptools", "wheel", "distribute"}  # never removed, even if once required
INSTALLERS = {"pip", "uv"}  # what pip or uv installed; conda's packages are not ours to remove


def sync(python: Path, root: Path, roots: set[str] | None,
         installer: Installer = pip.PIP, needed: set[str] | None = None) -> list[str]:
    """After installing what asks for `roots` (requirement_names): uninstall what was needed
    before and no longer is; remember what is needed now. `needed`: what the lock says the
    env needs (its entries for this Python, and the local projects), read instead of every
    installed package's requirements. Returns the names removed."""
    env = Path(python).parent.parent
    record = env / NEEDED_FILE
    before = _load(record)
    if roots is None and needed is None:  # a source we cannot name (a path, a URL): remove
        # nothing, and forget the old record, which no longer describes these sources
        record.unlink(missing_ok=True)
        return []
    if needed is not None:
        dists = _distributions(env, requires=False)
    else:
        dists = _distributions(env)
        needed = _closure(roots or set(), dists)
    gone = uninstall(python, root, before - needed, installer, dists)
    if gone:
        ui.info(f"  removed {', '.join(gone)}: no longer required")
    atomic_write_text(record, json.dumps(sorted(needed & set(dists))) + "\n")
    return gone


def restore(python: Path, root: Path, changed: list[str],
            installer: Installer = pip.PIP) -> set[str]:
    """Before a re-install: take out what pyve installed and was changed to another version
    behind its back (envstate.changed), so the install puts back what the requirements ask
    for. What was added by hand stays (by_hand)."""
    gone = uninstall(python, root, set(changed), installer)
    if gone:
        ui.info(f"  reinstalling {', '.join(gone)}: its version was changed outside pyve")
    return set(gone)


def by_hand(python: Path, roots: set[str] | None,
            extras: dict[str, set[str]] | None = None,
            needed: set[str] | None = None) -> dict[str, str]:
    """name -> version of what pip or uv installed that the sources do not need (the
    closure of `roots`, requirement_names, with their `extras`, markers evaluated for the
    env) and that is not a removed line's package (needed by the last install, which sync
    takes out): what the user installed by hand. pip's own tools, conda's packages and what
    came from a local folder aside; nothing when a source cannot be named (`roots` None:
    pyve cannot tell what is needed). `needed`: what the lock just installed says is
    needed (sync recorded it), read instead of the installed packages' requirements."""
    env = Path(python).parent.parent
    if needed is not None:
        dists = _distributions(env, requires=False)
        mine = needed
    elif roots is None:
        return {}
    else:
        dists = _distributions(env)
        leaving = _load(env / NEEDED_FILE) - _closure(roots, dists)
        mine = leaving | _needed(env, roots, extras or {})
    versions = envstate.distributions(env)
    return {name: versions.get(name, "?") for name, (installer, _req, local) in sorted(
        dists.items()) if name not in mine and installer in INSTALLERS and name not in KEEP
        and not local}


def unmet(python: Path, kept: dict[str, str], put_back: set[str]) -> dict[str, str]:
    """Those of `kept` (installed by hand) whose own requirements on a package the build
    put back (`put_back`: its version had been changed, by their install) the env no
    longer meets: name -> why, e.g. `it needs alpha<2, and the environment has alpha 2.0`.
    A requirement the user left unmet themselves is theirs. Markers are evaluated for the
    env's Python; a requirement only an extra asks for is not checked."""
    if not kept or not put_back:
        return {}
    from importlib.metadata import PathDistribution

    from packaging.markers import UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    from pyve.installers.distinfo import headers

    env = Path(python).parent.parent
    versions = envstate.distributions(env)
    environment = {**_marker_environment(env), "extra": ""}
    requires: dict[str, list[str]] = {}
    for info in env.glob("lib/python*/site-packages/*.dist-info"):
        name = pip.canonical_name(info.name[: -len(".dist-info")].partition("-")[0])
        if name in kept:
            requires[name] = headers(PathDistribution(info)).get_all("Requires-Dist") or []
    broken: dict[str, str] = {}
    changed = True
    while changed:  # a package that goes may leave another without its requirement
        changed = False
        for name in sorted(set(requires) - set(broken)):
            for text in requires[name]:
                try:
                    req = Requirement(text)
                    if req.marker is not None and not req.marker.evaluate(environment):
                        continue
                except (InvalidRequirement, UndefinedEnvironmentName):
                    continue  # pip would not act on it either
                dep = pip.canonical_name(req.name)
                if dep not in put_back and dep not in broken:
                    continue
                have = None if dep in broken else versions.get(dep)
                if have is None:
                    broken[name] = f"it needs {text}, which the environment does not have"
                elif req.specifier and not req.specifier.contains(have, prereleases=True):
                    broken[name] = f"it needs {text}, and the environment has {dep} {have}"
                else:
                    continue
                changed = True
                break
    return broken


def _env_minor(env: Path) -> str:
    """3.11 of the env's lib/python3.11 (the marker `python_version`)."""
    found = sorted(env.glob("lib/python*/site-packages"))
    return found[0].parent.name.removeprefix("python") if found else ""


def _needed(env: Path, roots: set[str], extras: dict[str, set[str]]) -> set[str]:
    """The closure of `roots` as pip resolves it here: a requirement behind a marker that
    is false in this env, or behind an extra nobody asked for, does not count. (sync's
    closure counts them, to never remove what some marker might need; a package it keeps
    that way is still the user's.)"""
    if not roots:
        return set()
    from importlib.metadata import PathDistribution

    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    from pyve.installers.distinfo import headers

    infos = {pip.canonical_name(i.name[: -len(".dist-info")].partition("-")[0]): i
             for i in env.glob("lib/python*/site-packages/*.dist-info")}
    environment = _marker_environment(env)
    done: dict[str, set[str]] = {}
    todo = [(name, set(extras.get(name, ()))) for name in roots]
    while todo:
        name, asked = todo.pop()
        if name in done and asked <= done[name]:
            continue
        done[name] = done.get(name, set()) | asked
        info = infos.get(name)
        if info is None:
            continue
        for text in headers(PathDistribution(info)).get_all("Requires-Dist") or []:
            try:
                req = Requirement(text)
                if req.marker is not None and not any(
                        req.marker.evaluate({**environment, "extra": extra})
                        for extra in ("", *done[name])):
                    continue
            except (InvalidRequirement, InvalidMarker, UndefinedComparison,
                    UndefinedEnvironmentName):
                pass  # unreadable: count it, as sync does
            else:
                todo.append((pip.canonical_name(req.name),
                             {pip.canonical_name(e) for e in req.extras}))
                continue
            dep = requirement_name(text)
            if dep:
                todo.append((dep, set()))
    return set(done)


def _marker_environment(env: Path) -> dict[str, str]:
    """PEP 508's marker values for the env's Python (pyve's own, but for its version)."""
    from packaging.markers import default_environment

    values = {k: str(v) for k, v in default_environment().items()}
    minor = _env_minor(env)
    if minor and not values["python_version"] == minor:
        values["python_version"] = minor
        values["python_full_version"] = f"{minor}.0"
    return values


def kept_roots(python: Path, kept: dict[str, str]) -> list[str]:
    """Those of `kept` that no other kept package requires: what the user asked for."""
    dists = _distributions(Path(python).parent.parent)
    pulled = {dep for name in kept for dep in (dists[name][1] if name in dists else [])
              if dep != name}
    return [name for name in sorted(kept) if name not in pulled] or sorted(kept)


def by_hand_text(kept: dict[str, str], roots: list[str]) -> str:
    """`ipdb 0.13.13 (and 15 packages it needs)`."""
    shown = ", ".join(f"{n.removeprefix('conda:')} {kept[n]}" for n in roots)
    pulled = len(kept) - len(roots)
    if pulled <= 0:
        return shown
    return (f"{shown} (and {pulled} package{'s' if pulled > 1 else ''} "
            f"{'it needs' if len(roots) == 1 else 'they need'})")


def by_hand_reason(names: list[str]) -> str:
    """Why `build --exact` runs a stage: `installed by hand: gamma, ipdb and 15 more`."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"installed by hand: {', '.join(names[:3])}{more} (--exact)"


def kept_line(kept: dict[str, str], roots: list[str], where: str) -> str:
    """`kept iniconfig 2.1.0: installed by hand, not in requirements.txt; ...` for the
    packages the user asked for (`roots`; what they pulled in is counted)."""
    names = [n.removeprefix("conda:") for n in roots]
    them = "it" if len(roots) == 1 else "them"
    return (f"kept {by_hand_text(kept, roots)}: installed by hand, not in {where}; "
            f"`pyve add {' '.join(names)}` keeps {them} for good, "
            f"`pyve build --exact` removes {them}")


def unlisted(python: Path, wanted: set[str]) -> list[str]:
    """What pip or uv installed that `wanted` (a lock's names) does not list: pip's own tools,
    conda's packages and what came from a local folder (the project itself) aside."""
    env = Path(python).parent.parent
    return sorted(name for name, (installer, _req, local) in _distributions(env).items()
                  if name not in wanted and installer != "conda" and name not in KEEP
                  and not local)


def sync_exact(python: Path, root: Path, wanted: set[str],
               installer: Installer = pip.PIP) -> list[str]:
    """--frozen: remove what the lock does not list; what it lists is what is needed now."""
    gone = uninstall(python, root, set(unlisted(python, wanted)), installer)
    if gone:
        ui.info(f"  removed {', '.join(gone)}: not in {pip.LOCK_FILE}")
    env = Path(python).parent.parent
    atomic_write_text(env / NEEDED_FILE,
                      json.dumps(sorted(wanted & set(_distributions(env)))) + "\n")
    return gone


def uninstall(python: Path, root: Path, names: set[str], installer: Installer,
              dists: dict[str, tuple[str, list[str], bool]] | None = None) -> list[str]:
    """Uninstall those of `names` that pip or uv installed (never conda's packages, never
    pip's own tools); returns the names removed."""
    if not names:
        return []
    dists = _distributions(Path(python).parent.parent) if dists is None else dists
    gone = sorted(name for name in names
                  if name in dists and dists[name][0] in INSTALLERS and name not in KEEP)
    if not gone:
        return []
    env = Path(python).parent.parent
    shared = _sharing(env, gone)
    # a package that stays and that pyve cannot install again by name (conda's, a local
    # project's) keeps its files: what would delete them is not uninstalled
    for name in sorted({g for owners in shared.values() for g in owners}):
        pinned = [other for other, owners in shared.items() if name in owners
                  and (other not in dists or dists[other][0] not in INSTALLERS
                       or dists[other][2])]
        if pinned:
            ui.info(f"  kept {name}: uninstalling it would delete files that "
                    f"{', '.join(pinned)} installed too")
            gone.remove(name)
    if not gone:
        return []
    versions = {name: version for name, (version, _info) in distinfo.installed(env).items()}
    broken = {other: versions[other] for other, owners in shared.items()
              if set(owners) & set(gone) and other in versions}
    uninstaller(installer).uninstall(python, gone, root)
    if broken:  # the uninstall deleted their files too: put them back as they were
        ui.info(f"  reinstalling {', '.join(sorted(broken))}: uninstalling "
                f"{', '.join(gone)} deleted files it shares with them")
        installer.repair(python, broken, root)
    return gone


def _sharing(env: Path, gone: list[str]) -> dict[str, list[str]]:
    """The packages that stay and list in their RECORD a file that one of `gone` lists
    too (two distributions of one module: opencv-python and opencv-python-headless):
    name -> those of `gone`. Uninstalling `gone` deletes those files."""
    found = distinfo.installed(env)
    owners: dict[Path, list[str]] = {}
    for name in gone:
        if name in found:
            for path, _digest, _size in distinfo.record_rows(found[name][1]):
                owners.setdefault(path, []).append(name)
    shared: dict[str, list[str]] = {}
    if not owners:
        return shared
    for name, (_version, info) in found.items():
        if name in gone:
            continue
        hit = {owner for path, _digest, _size in distinfo.record_rows(info)
               for owner in owners.get(path, ())}
        if hit:
            shared[name] = sorted(hit)
    return shared


def requirement_names(root: Path, sources: list[str],
                      extras: dict[str, set[str]] | None = None) -> set[str] | None:
    """The names the source files ask for directly (canonical), or None if one cannot be
    named; `extras` collects the extras each line asks for (`foo[bar]`)."""
    names: set[str] = set()
    for source in sources:
        found = (_project_name(root / source) if source == "pyproject.toml"
                 else _requirements_file(root / source, set(), extras))
        if found is None:
            return None
        names |= found
    return names


def names_in_lines(lines: list[str], base: Path,
                   extras: dict[str, set[str]] | None = None) -> set[str] | None:
    """The same for requirement lines (environment.yml's pip: section), read from `base`."""
    return _lines(lines, base, set(), extras)


def _project_name(pyproject: Path) -> set[str] | None:
    from pyve.project import tomllib

    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    name = table.get("name") if isinstance(table, dict) else None
    return {pip.canonical_name(name)} if isinstance(name, str) else None


def _requirements_file(path: Path, seen: set[Path],
                       extras: dict[str, set[str]] | None = None) -> set[str] | None:
    """Names in a pip requirements file, following -r includes; -c constraints add none."""
    try:
        path = path.resolve()
        if path in seen:
            return set()
        seen.add(path)
        if not path.is_file():  # missing, or a FIFO/device: reading would consume or block
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):  # unreadable, not UTF-8, a NUL in the name: cannot say
        return None
    return _lines([line.text for line in logical_lines(text)], path.parent, seen, extras)


def _lines(lines: list[str], base: Path, seen: set[Path],
           extras: dict[str, set[str]] | None = None) -> set[str] | None:
    names: set[str] = set()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        included = option_value(line, INCLUDE_OPTIONS)
        if included and included[0] in ("-r", "--requirement"):
            found = _requirements_file(base / expand(included[1]), seen, extras)
            if found is None:
                return None
            names |= found
            continue
        if option_value(line, EDITABLE_OPTIONS) or line in EDITABLE_OPTIONS:
            return None  # a path or URL: its name is only known after the install
        if line.startswith("-"):
            continue  # -c, --index-url, -f ...: no requirement
        name = requirement_name(line)
        if name is None:
            return None  # a bare path or URL
        names.add(name)
        asked = _EXTRAS.match(line)
        if extras is not None and asked:
            extras.setdefault(name, set()).update(
                pip.canonical_name(e) for e in asked.group(1).split(",") if e.strip())
    return names


# PEP 508: a requirement starts with its name, then extras, a version, a marker or "@ url".
# (A regex, not packaging.requirements: that import alone costs ~30 ms of every install.)
_NAME = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[\[(<>=!~;@\s])")


_EXTRAS = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*\[([^\]]*)\]")


def requirement_name(text: str) -> str | None:
    """The canonical name a requirement line starts with; None for a path or URL."""
    match = _NAME.match(text.strip())
    return pip.canonical_name(match.group(1)) if match else None


def _distributions(env: Path, requires: bool = True
                   ) -> dict[str, tuple[str, list[str], bool]]:
    """canonical name -> (installer, names it requires, from a local folder) for every package.
    Markers and extras are ignored on purpose: keeping a package some marker might need is
    safe, removing one is not. A package a conda record owns counts as installed by conda,
    whatever its INSTALLER file says. requires=False: no METADATA read (the names come from
    the dist-info folders, the requirements are left empty), for a caller the lock answers."""
    infos = sorted(env.glob("lib/python*/site-packages/*.dist-info"))
    if not infos:  # a conda env without pip packages: no import, no conda record read
        return {}
    from importlib.metadata import PathDistribution

    from pyve.installers.distinfo import headers

    conda_owned = _conda_owned(env)
    found: dict[str, tuple[str, list[str], bool]] = {}
    for info in infos:
        dist = PathDistribution(info)
        if not requires:
            found.setdefault(pip.canonical_name(info.name[: -len(".dist-info")].partition("-")[0]),
                             ("conda" if info.relative_to(env).as_posix() in conda_owned
                              else (dist.read_text("INSTALLER") or "").strip().lower(),
                              [], _from_path(dist)))
            continue
        meta = headers(dist)
        name = meta["Name"]
        if not name:
            continue
        requires_names = [n for n in map(requirement_name, meta.get_all("Requires-Dist") or [])
                          if n]
        installer = (dist.read_text("INSTALLER") or "").strip().lower()
        if info.relative_to(env).as_posix() in conda_owned:
            installer = "conda"
        found.setdefault(pip.canonical_name(name), (installer, requires_names,
                                                    _from_path(dist)))
    return found


def _from_path(dist: object) -> bool:
    """Installed from a local folder (editable or not): no lock can pin it by hash."""
    text = dist.read_text("direct_url.json")  # type: ignore[attr-defined]
    if not text:
        return False
    try:
        return "dir_info" in json.loads(text)
    except (ValueError, RecursionError):
        return False


def _conda_owned(env: Path) -> set[str]:
    """The dist-info folders (relative to the env) that conda packages installed."""
    owned: set[str] = set()
    for record in env.glob("conda-meta/*.json"):
        try:
            files = json.loads(record.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        for file in files if isinstance(files, list) else []:
            if isinstance(file, str) and ".dist-info/" in file:
                owned.add(file.split(".dist-info/", 1)[0] + ".dist-info")
    return owned


def _closure(roots: set[str], dists: dict[str, tuple[str, list[str], bool]]) -> set[str]:
    needed, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(dists[name][1] if name in dists else [])
    return needed


def _load(record: Path) -> set[str]:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return set()
    return {n for n in data if isinstance(n, str)} if isinstance(data, list) else set()
