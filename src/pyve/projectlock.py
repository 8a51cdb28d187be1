"""The project's own lock: uv.lock, pylock.toml (PEP 751), pdm.lock or poetry.lock.

A project that commits one of them has already chosen its versions; pyve installs those,
not the newest ones its own resolution would find (docs/backends.md has the table):
- uv.lock: `uv export --frozen` with pyve.toml's extras and groups gives a hashed
  requirements file, installed hash-checked; pylock.toml's packages for this environment
  (its markers evaluated, extras and groups included) make the same kind of file;
- pdm.lock, poetry.lock: their pins (name == version, of the selected groups) constrain the
  resolution of the project's requirements;
- in every case the lock's pins are constraints of the install that follows (the project
  itself, editable, and the other sources), so nothing resolves past them.

A lock that no longer fits pyproject.toml (a dependency added, not re-locked) is stale: its
pins become preferences of a resolution (`uv pip compile` keeps a preferred version when it
still fits), so the pins that fit are kept, the rest is resolved, and one line says which
command refreshes the lock. pyve never writes another tool's lock. `project_lock = false`
in pyve.toml turns all this off.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyve import proc, ui
from pyve.errors import PyveError
from pyve.project import PROJECT_LOCKS, tomllib

# what it is, and the command that refreshes it
KINDS = {
    "uv.lock": ("uv's lock", "uv lock"),
    "pylock.toml": ("the PEP 751 lock", "the tool that wrote it"),
    "pdm.lock": ("pdm's lock", "pdm lock"),
    "poetry.lock": ("poetry's lock", "poetry lock"),
}
assert tuple(KINDS) == PROJECT_LOCKS


def choose(root: Path, sources: list[str] | tuple[str, ...], config: dict[str, Any]
           ) -> str | None:
    """The lock pyve installs from: the first of PROJECT_LOCKS present, when the project
    itself (pyproject.toml) is installed and pyve.toml does not say `project_lock = false`.
    A pylock.toml that pyve wrote ([tool.pyve]) is pyve's own lock, not the project's."""
    if "pyproject.toml" not in sources or config.get("project_lock") is False:
        return None
    for name in PROJECT_LOCKS:
        if (root / name).is_file() and not (name == "pylock.toml" and is_pyves(root / name)):
            return name
    return None


def pyve_table(path: Path) -> dict[str, Any] | None:
    """The [tool.pyve] table of a pylock.toml pyve wrote beside requirements.lock.txt (None:
    no such file, not readable TOML, or the project's own lock, which pyve never
    overwrites)."""
    if not path.is_file():
        return None
    try:
        tool = _toml(path).get("tool")
    except (PyveError, OSError):
        return None
    table = tool.get("pyve") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def is_pyves(path: Path) -> bool:
    return pyve_table(path) is not None


def describe(name: str) -> str:
    return KINDS[name][0]


def refresh_command(root: Path, name: str) -> str:
    if name == "pylock.toml":
        try:
            by = _toml(root / name).get("created-by")
        except PyveError:
            by = None
        return f"re-create it with {by}" if isinstance(by, str) and by else \
            "re-create it with the tool that wrote it"
    return f"`{KINDS[name][1]}` refreshes it"


_READ: dict[tuple[str, int, int, int], dict[str, Any]] = {}  # per process, by file identity


def _toml(path: Path) -> dict[str, Any]:
    """The lock's TOML; one error line naming the file when it cannot be read."""
    what = KINDS.get(path.name, ("", "its tool"))[1]
    hint = f"fix {path.name} (`{what}` re-creates it), or set project_lock = false in pyve.toml"
    try:
        stat = path.stat()
        key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key in _READ:  # a build asks several times (pyve's pylock.toml is large)
            return _READ[key]
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        _READ[key] = data
    except tomllib.TOMLDecodeError as exc:
        raise PyveError(f"{path.name}: invalid TOML: {exc}", hint=hint) from None
    except UnicodeDecodeError:
        raise PyveError(f"{path.name}: not UTF-8 text", hint=hint) from None
    except RecursionError:
        raise PyveError(f"{path.name}: nested too deeply", hint=hint) from None
    return data


def check(root: Path, name: str) -> None:
    """The lock can be read (before the build starts: bad input changes nothing)."""
    _toml(root / name)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- pins -----------------------------------------------------------------------------------

def pins(root: Path, name: str, extras: tuple[str, ...], groups: tuple[str, ...]
         ) -> dict[str, str]:
    """name -> version of every package the lock pins to one version (a package locked at
    several versions, one per platform or Python, is left to the resolver), for the selected
    extras and groups where the lock records them."""
    data = _toml(root / name)
    found: dict[str, set[str]] = {}
    key = "packages" if name == "pylock.toml" else "package"
    chosen = {_normal(g) for g in (*extras, *groups)}
    for package in data.get(key) or []:
        if not isinstance(package, dict):
            continue
        pkg_name, version = package.get("name"), package.get("version")
        if not isinstance(pkg_name, str) or not isinstance(version, str):
            continue  # a directory or VCS package of pylock.toml has no version
        if name == "uv.lock" and not _from_index(package):
            continue  # the project itself, a workspace member or a path: installed as such
        if not _selected(name, package, chosen):
            continue
        found.setdefault(_normal(pkg_name), set()).add(version)
    return {n: next(iter(v)) for n, v in sorted(found.items()) if len(v) == 1}


def _from_index(package: dict[str, Any]) -> bool:
    source = package.get("source")
    return isinstance(source, dict) and "registry" in source


def _selected(name: str, package: dict[str, Any], chosen: set[str]) -> bool:
    """pdm.lock and poetry.lock (2.x) name the groups each package is locked for."""
    groups = package.get("groups")
    if name not in ("pdm.lock", "poetry.lock") or not isinstance(groups, list):
        return True
    base = {"default"} if name == "pdm.lock" else {"main"}
    return bool({_normal(str(g)) for g in groups} & (base | chosen))


# --- is it stale? -----------------------------------------------------------------------------

def stale(root: Path, name: str, extras: tuple[str, ...], groups: tuple[str, ...],
          python: str) -> str | None:
    """Why the lock no longer fits pyproject.toml (None: it fits): every direct requirement
    of the project, its selected extras and groups must be met by a locked version; then,
    for uv.lock, `uv lock --check` (offline; it never writes the lock) must agree."""
    data = _toml(root / name)
    if name == "pdm.lock":
        declared = (data.get("metadata") or {}).get("groups")
        if isinstance(declared, list):
            missing = [g for g in (*extras, *groups)
                       if _normal(g) not in {_normal(str(d)) for d in declared}]
            if missing:
                return f"it has no group {missing[0]!r}"
    locked: dict[str, set[str]] = {}
    for package in data.get("packages" if name == "pylock.toml" else "package") or []:
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            version = package.get("version")
            indexed = name != "uv.lock" or _from_index(package)
            locked.setdefault(_normal(package["name"]), set()).update(
                [version] if isinstance(version, str) and indexed else ["*"])
    from packaging.requirements import InvalidRequirement, Requirement

    for text in direct_requirements(root, extras, groups):
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # the install names it
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        versions = locked.get(_normal(req.name))
        if not versions:
            return f"it does not pin {req.name}"
        if req.url or "*" in versions:
            continue  # a path, a URL or a workspace member: no version to compare
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            return f"it pins {req.name} {', '.join(sorted(versions))}; pyproject.toml asks " \
                   f"for {req}"
    if name != "uv.lock":
        return None
    return _uv_requirements_differ(root, data) or _uv_lock_stale(root, python)


def _uv_requirements_differ(root: Path, lock: dict[str, Any]) -> str | None:
    """uv.lock records the project's own requirements as it locked them (`requires-dist`,
    `requires-dev` of the editable root package): one added, removed or re-specified in
    pyproject.toml since makes the lock stale -- what `uv lock --check` finds, offline."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from pyve.sources import group_requirements

    data = _toml(root / "pyproject.toml")
    table = data.get("project")
    project: dict[str, Any] = table if isinstance(table, dict) else {}
    me = _normal(str(project.get("name", "")))
    root_package = next((p for p in lock.get("package") or [] if isinstance(p, dict)
                         and _normal(str(p.get("name", ""))) == me
                         and isinstance(p.get("source"), dict)
                         and p["source"].get("editable", p["source"].get("virtual")) == "."),
                        None)
    metadata = root_package.get("metadata") if root_package else None
    if not isinstance(metadata, dict):
        return None  # an older lock format, or a workspace: uv lock --check decides

    def wanted(texts: list[Any]) -> dict[str, SpecifierSet]:
        found: dict[str, SpecifierSet] = {}
        for text in texts:
            try:
                req = Requirement(str(text))
            except InvalidRequirement:
                continue
            key = _normal(req.name)
            found[key] = found.get(key, SpecifierSet()) & req.specifier
        return found

    def locked(entries: list[Any]) -> dict[str, SpecifierSet]:
        found: dict[str, SpecifierSet] = {}
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                try:
                    spec = SpecifierSet(str(entry.get("specifier", "")))
                except InvalidSpecifier:
                    continue
                key = _normal(entry["name"])
                found[key] = found.get(key, SpecifierSet()) & spec
        return found

    asked = [*(project.get("dependencies") or [])]
    for extra in (project.get("optional-dependencies") or {}).values():
        asked += extra if isinstance(extra, list) else []
    pairs = [("dependencies", wanted(asked), locked(metadata.get("requires-dist") or []))]
    dev = metadata.get("requires-dev") or {}
    groups = data.get("dependency-groups") or {}
    for group in sorted({*map(_normal, groups), *map(_normal, dev)}):
        entries: list[Any] = next((v for k, v in dev.items() if _normal(k) == group), [])
        pairs.append((f"group {group}", wanted(group_requirements(root, [group])),
                      locked(entries)))
    for where, now, then in pairs:
        for key in sorted({*now, *then}):
            if key == me:
                continue
            if key not in then:
                return f"{key} was added to the {where} and not locked"
            if key not in now:
                return f"{key} was removed from the {where}"
            if now[key] != then[key]:
                return f"{key} is now {now[key] or 'any version'}, locked as " \
                       f"{then[key] or 'any version'}"
    return None


def direct_requirements(root: Path, extras: tuple[str, ...], groups: tuple[str, ...]
                        ) -> list[str]:
    from pyve.sources import group_requirements

    data = _toml(root / "pyproject.toml")
    table = data.get("project")
    project: dict[str, Any] = table if isinstance(table, dict) else {}
    found = [r for r in project.get("dependencies") or [] if isinstance(r, str)]
    offered = {_normal(k): v for k, v in (project.get("optional-dependencies") or {}).items()}
    for extra in extras:
        found += [r for r in offered.get(_normal(extra)) or [] if isinstance(r, str)]
    project_name = _normal(str(project.get("name", "")))
    for req in group_requirements(root, groups):
        found.append(req)
    # the project naming itself (`tiny[test]` in a group): it is the project, not a pin
    return [r for r in found if _normal(re.split(r"[\s\[;<>=!~@(]", r, maxsplit=1)[0])
            != project_name]


def _uv_lock_stale(root: Path, python: str) -> str | None:
    from pyve.installers.uv import uv_bin

    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    cmd = [uv_bin(), "lock", "--check", "--offline", "--quiet",
           *(["--python", python] if python else [])]
    ui.detail("$ " + " ".join(cmd))
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode == 0:
        return None
    said = (done.stderr + done.stdout).strip()
    if "needs to be updated" in said:
        return "`uv lock --check` says it needs to be updated"
    # uv could not tell offline (a project whose metadata needs a build, say): the
    # requirements are all met by the lock (stale() checked), which is what the install needs
    ui.detail(f"  uv lock --check could not tell offline: {said.splitlines()[-1:]}")
    return None


# --- what the install stage installs ----------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    hashed: Path | None  # a hashed requirements file to install first (a fresh uv.lock, pylock)
    constraints: Path  # name==version lines for the install of the project and its sources
    stale: str | None  # why the lock no longer fits, said in one line


def plan(root: Path, name: str, sources: list[str], extras: tuple[str, ...],
         groups: tuple[str, ...], python: Path, python_path: str, work: Path) -> Plan:
    """What the install of `sources` does with the lock, its files written in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    why = stale(root, name, extras, groups, python_path)
    constraints = work / "project-lock-constraints.txt"
    hashed = None
    if why is not None:
        chosen = _resolve_with_preferences(root, pins(root, name, extras, groups), python,
                                           _requirement_lines(root, sources, extras, groups,
                                                              work), work)
    elif name in ("uv.lock", "pylock.toml"):
        hashed = work / "project-lock.txt"
        if name == "uv.lock":
            _uv_export(root, extras, groups, hashed)
        else:
            hashed.write_text(pylock_requirements(root, extras, groups), encoding="utf-8")
        chosen = _pins_of_requirements(hashed.read_text(encoding="utf-8"))
    else:
        chosen = [f"{n}=={v}" for n, v in pins(root, name, extras, groups).items()]
    constraints.write_text("".join(f"{line}\n" for line in chosen), encoding="utf-8")
    return Plan(hashed, constraints, None if why is None else
                f"{name} is stale ({why}): pyve kept its pins that still fit and resolved "
                f"the rest; {refresh_command(root, name)}")


def _uv_export(root: Path, extras: tuple[str, ...], groups: tuple[str, ...], dest: Path
               ) -> None:
    from pyve.installers.uv import uv_bin

    proc.run([uv_bin(), "export", "--frozen", "--offline", "--format", "requirements-txt",
              "--no-emit-project", "--no-default-groups", "--no-header", "--no-annotate",
              "--quiet", *(f"--extra={e}" for e in extras), *(f"--group={g}" for g in groups),
              "--output-file", dest],
             cwd=root, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
             what="uv export (uv.lock's pins)",
             hint="fix uv.lock with `uv lock`, or set project_lock = false in pyve.toml")


def _pins_of_requirements(text: str) -> list[str]:
    """`name==version ; marker` of a hashed requirements file: its entries as constraints."""
    from pyve.reqfiles import logical_lines

    found = []
    for line in logical_lines(text):
        requirement = line.text.split(" --hash", 1)[0].strip()
        if requirement.startswith("-") or "==" not in requirement or " @ " in requirement:
            continue  # a local path or a URL is installed as it is, never a constraint
        name, rest = requirement.split("==", 1)
        found.append(re.sub(r"\[.*\]", "", name).strip() + "==" + rest)  # no extras
    return found


def pylock_requirements(root: Path, extras: tuple[str, ...], groups: tuple[str, ...]) -> str:
    """pylock.toml's packages for this environment as a hashed requirements file: each
    package's marker evaluated here (with the selected extras and groups, PEP 751), each
    index file's sha256 as a --hash."""
    from packaging.markers import Marker, default_environment

    data = _toml(root / "pylock.toml")
    default_groups = [g for g in data.get("default-groups") or [] if isinstance(g, str)]
    chosen_groups = {_normal(g) for g in (*default_groups, *groups)}
    environment: dict[str, Any] = {**default_environment(),
                                   "extras": {_normal(e) for e in extras},
                                   "dependency_groups": chosen_groups}
    lines = []
    for package in data.get("packages") or []:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        marker = package.get("marker")
        if isinstance(marker, str) and marker.strip():
            try:
                holds = Marker(marker).evaluate(environment, context="lock_file")
            except TypeError:  # packaging < 25: no lock-file markers
                holds = Marker(marker).evaluate({**environment, "extras": "",
                                                 "dependency_groups": ""})
            if not holds:
                continue
        lines.append(_pylock_line(package))
    return "".join(f"{line}\n" for line in lines if line)


def _pylock_line(package: dict[str, Any]) -> str:
    name, version = package["name"], package.get("version")
    if isinstance(package.get("directory"), dict):
        path = package["directory"].get("path", ".")
        editable = package["directory"].get("editable")
        return f"-e {path}" if editable else str(path)
    if isinstance(package.get("vcs"), dict):
        vcs = package["vcs"]
        return f"{name} @ {vcs.get('type', 'git')}+{vcs.get('url')}@{vcs.get('commit-id')}"
    hashes = []
    for item in [*(package.get("wheels") or []), package.get("sdist") or {}]:
        if isinstance(item, dict):
            digest = (item.get("hashes") or {}).get("sha256")
            if isinstance(digest, str):
                hashes.append(digest)
    if not isinstance(version, str) or not hashes:
        raise PyveError(f"pylock.toml: package {name!r} has no version or no sha256",
                        hint="re-create pylock.toml, or set project_lock = false in pyve.toml")
    return f"{name}=={version}" + "".join(f" --hash=sha256:{h}" for h in sorted(set(hashes)))


def _requirement_lines(root: Path, sources: list[str], extras: tuple[str, ...],
                       groups: tuple[str, ...], work: Path) -> list[str]:
    """What the install asks for (sources.install_args), as lines of a requirements file
    in `work`: paths made absolute."""
    from pyve.sources import ENV_FILE, PYPROJECT, env_section_file, group_requirements

    lines = []
    for source in sources:
        if source == PYPROJECT:
            lines.append(f"-e {root}" + (f"[{','.join(extras)}]" if extras else ""))
        elif source == ENV_FILE:
            lines.append(f"-r {env_section_file(root, work)}")
        else:
            lines.append(f"-r {root / source}")
    return lines + group_requirements(root, groups)


def _resolve_with_preferences(root: Path, preferred: dict[str, str], python: Path,
                              requirements: list[str], work: Path) -> list[str]:
    """The install's requirements resolved by `uv pip compile` with the lock's pins as
    preferences (an existing output file): uv keeps a pin where it still fits."""
    from pyve.installers import uv

    wanted = work / "project-lock-requirements.in"
    wanted.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
    out = work / "project-lock-resolved.txt"
    out.write_text("".join(f"{n}=={v}\n" for n, v in preferred.items()), encoding="utf-8")
    proc.run([uv.uv_bin(), "pip", "compile", "--quiet", "--no-header", "--no-annotate",
              "--python", python, *uv.uv_index_flags(python), wanted, "--output-file", out],
             cwd=root, env=uv.uv_env(python), what="uv pip compile (the lock's pins kept)",
             hint="re-run with -v for uv's reasoning")
    return _pins_of_requirements(out.read_text(encoding="utf-8"))
