"""The venv lock, requirements.lock.txt, both ways.

Writing: uv's universal resolver (`uv pip compile --universal --generate-hashes`) turns the
sources into pins for every Python and platform at once, with the sha256 of every file the
index offers for each version, extras kept as pip needs them (`pydantic[email]==2.12.5`) and
each platform-only requirement under its marker. The versions installed here are passed as
constraints, so the lock says what the env holds. uv writes the lock whichever installer built
the env: the same sources and the same env give the same bytes.

Reading (`--frozen`): every entry must be pinned with `==` and carry a valid sha256. The env is
made to match the lock exactly: entries whose marker holds here are installed with pip's (or
uv's) hash checking, a package already installed counts only when the file it came from is
known to be one the lock lists, and what the lock does not list is removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyve import lockseal, proc
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text, user_cache_dir
from pyve.installers import Installer, pip, prune, uv
from pyve.projectlock import is_pyves, pyve_table
from pyve.reqfiles import scan
from pyve.sources import ENV_FILE, env_section_file

LOCK_FILE = pip.LOCK_FILE
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REHASH = f"re-create it with `pyve build` (or `pyve lock`), then commit {LOCK_FILE}"


@dataclass(frozen=True)
class LockEntry:
    line: int  # where the entry starts in the file, for errors
    name: str  # canonical
    version: str
    requirement: str  # as written: `pydantic[email]==2.12.5 ; python_version < '3.12'`
    hashes: tuple[str, ...]
    marker: object | None  # packaging.markers.Marker

    def text(self) -> str:
        return self.requirement + "".join(f" \\\n    --hash=sha256:{h}" for h in self.hashes)


# --- writing ------------------------------------------------------------------------------

PYLOCK_FILE = "pylock.toml"  # PEP 751, written beside requirements.lock.txt
COVERS_PREFIX = "# Covers: "
PYLOCK_PREFIX = "# pyve-pylock: "  # the digest of the pylock.toml written with the lock
PYLOCK_NOTE = f"# Also written as {PYLOCK_FILE} (PEP 751), from the same resolution."


@dataclass(frozen=True)
class Coverage:
    """The Pythons and platforms the lock holds for: from the lowest Python the project
    supports up, on every platform unless markers narrow it."""

    python: str  # the lowest Python: uv's --python-version
    python_why: str
    environments: tuple[str, ...] = ()  # PEP 508 markers; () is every platform
    environments_from: str = ""

    def text(self) -> str:
        where = (" or ".join(self.environments) + f" ({self.environments_from})"
                 if self.environments else "every platform")
        return f"python >= {self.python} ({self.python_why}); {where}"

    def config(self) -> dict[str, object]:
        """What the lock stage's freshness depends on (a change re-locks)."""
        return {"lock_python": self.python, "lock_environments": list(self.environments)}


@dataclass(frozen=True)
class Plan:
    """A lock resolved before the install (the lock is the plan): the pins to keep where
    they still fit (the previous lock's), constraint files (the project's own lock), and the
    install to run on the lock's entries."""

    prefer: list[str]
    constraints: tuple[Path, ...]
    during: Callable[[list[LockEntry]], None]


def _pyproject(root: Path) -> dict[str, object]:
    from pyve.project import tomllib
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none, or invalid (the decision says so)
        return {}
    return data if isinstance(data, dict) else {}


def _table(data: dict[str, object], *keys: str) -> dict[str, object]:
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, dict) else {}
    return data


def lower_bound(spec: str) -> str | None:
    """The lowest Python a requires-python admits (`>=3.9,<4` -> 3.9), None if unbounded."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    bounds = []
    for item in specifiers:
        if item.operator in (">=", ">", "~=", "==", "==="):
            try:
                bounds.append(Version(item.version.removesuffix(".*")))
            except InvalidVersion:
                continue
    return str(max(bounds)) if bounds else None


def coverage(root: Path, env_version: str, lock_environments: list[str] | None = None
             ) -> Coverage:
    """The lock covers requires-python's range from its lower bound (the env's Python when
    the project declares none), on the platforms pyve.toml's `lock_environments` or
    pyproject.toml's `[tool.uv] environments` name (every platform when neither does)."""
    from packaging.version import InvalidVersion, Version

    from pyve.project import check_markers

    data = _pyproject(root)
    minor = ".".join(env_version.split(".")[:2])
    spec = _table(data, "project").get("requires-python")
    python, why = minor, "the environment's python: the project declares no requires-python"
    if isinstance(spec, str) and spec.strip():
        low = lower_bound(spec)
        try:
            below = low is not None and Version(low) > Version(env_version)
        except InvalidVersion:
            below = False
        if low is None:
            why = f"the environment's python: requires-python {spec.strip()} has no lower bound"
        elif below:  # the env itself must be covered
            why = f"the environment's python, below requires-python {spec.strip()}"
        else:
            python, why = low, f"requires-python {spec.strip()} in pyproject.toml"
    if lock_environments:
        return Coverage(python, why, tuple(lock_environments), "pyve.toml lock_environments")
    uv_envs = _table(data, "tool", "uv").get("environments")
    if uv_envs is not None:
        found = check_markers(uv_envs, "pyproject.toml: [tool.uv] environments",
                              "e.g. environments = [\"sys_platform == 'linux'\"]")
        return Coverage(python, why, tuple(found), "[tool.uv] environments in pyproject.toml")
    return Coverage(python, why)


def project_name(root: Path) -> str | None:
    """The project's own name: never a package of the lock (installing the lock must give
    the code under test, not a release of it from the index)."""
    name = _table(_pyproject(root), "project").get("name")
    return pip.canonical_name(name) if isinstance(name, str) and name.strip() else None


def write_lock(python: Path, root: Path, sources: list[str], *, inputs: str,
               extras: tuple[str, ...] = (), groups: tuple[str, ...] = (),
               covers: Coverage | None = None,
               resolved: tuple[list[str], str | None] | None = None) -> list[str]:
    """Write requirements.lock.txt and, unless the project has its own, pylock.toml; the
    notes to show (a pylock.toml left alone). `resolved`: the entries and pylock.toml that
    the install's plan resolved already (compile_lock with a Plan), written as they are."""
    lock = root / LOCK_FILE
    if lock.exists() and not lock.read_bytes().startswith(pip.LOCK_HEADER.encode()):
        raise PyveError(
            f"{LOCK_FILE} exists and was not written by pyve; refusing to overwrite it",
            hint=f"rename or delete {LOCK_FILE} if pyve may own it",
        )
    covers = covers or coverage(root, _env_version(python))
    own_pylock = (root / PYLOCK_FILE).exists() and not is_pyves(root / PYLOCK_FILE)
    if resolved is not None:
        body, pylock = resolved
    else:
        body, pylock = compile_lock(python, root, sources, extras, groups, covers,
                                    pylock=not own_pylock) if sources else ([], None)
    if pylock is None and not own_pylock:
        pylock = 'lock-version = "1.0"\ncreated-by = "pyve"\n'  # nothing to install
    name = project_name(root)
    left_out = [f"# Not in the lock: {name} itself (the code under test); install it from "
                "its source (pip install --no-deps -e .)"] if name and sources else []
    pylock_text = None if own_pylock else with_pyve_table(pylock or "", inputs, covers)
    lines = [pip.LOCK_HEADER, f"# Install with: pip install --require-hashes -r {LOCK_FILE}",
             pip.INPUTS_PREFIX + inputs, COVERS_PREFIX + covers.text(),
             pip.CONTENT_PREFIX + lockseal.PLACEHOLDER,
             *([] if pylock_text is None else [PYLOCK_NOTE,
                                               PYLOCK_PREFIX + lockseal.digest(pylock_text)]),
             *left_out, *body]
    notes = []
    if pylock_text is None:
        notes.append(f"{PYLOCK_FILE} is the project's own (not written by pyve): left as it "
                     f"is; pyve's lock is {LOCK_FILE} only")
    else:
        atomic_write_text(root / PYLOCK_FILE, pylock_text)
    atomic_write_text(lock, lockseal.seal("\n".join(lines) + "\n", pip.CONTENT_PREFIX))
    return notes


CHANGED_OUTSIDE = "changed outside pyve"
UNSEALED = f"{LOCK_FILE} has no content digest (an older pyve's lock, or an edit)"


def changed_outside(root: Path, *, unsealed: bool = True) -> str | None:
    """Why requirements.lock.txt, or the pylock.toml pyve wrote beside it, is not what pyve
    wrote (an edit, an appended entry, other bytes), or None. A lock without pyve's header is
    not pyve's (write_lock refuses to replace it); one without a content digest was written
    by an older pyve: named when `unsealed` (`build` rewrites it once), else accepted."""
    lock = root / LOCK_FILE
    try:
        text = lock.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None  # the missing file says so
    except (OSError, UnicodeDecodeError):
        return f"{LOCK_FILE} {CHANGED_OUTSIDE}"
    if not text.startswith(pip.LOCK_HEADER):
        return f"{LOCK_FILE} {CHANGED_OUTSIDE}"
    found = lockseal.state(text, pip.CONTENT_PREFIX)
    if found == lockseal.CHANGED:
        return f"{LOCK_FILE} {CHANGED_OUTSIDE}"
    if found == lockseal.UNSEALED:
        return UNSEALED if unsealed else None
    recorded = next((line[len(PYLOCK_PREFIX):].strip() for line in text.splitlines()
                     if line.startswith(PYLOCK_PREFIX)), None)
    pylock = root / PYLOCK_FILE
    if recorded and pylock.is_file() and is_pyves(pylock):
        try:
            now = lockseal.digest(pylock.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            now = None
        if now != recorded:
            return f"{PYLOCK_FILE} {CHANGED_OUTSIDE}"
    return None


def with_pyve_table(text: str, inputs: str, covers: Coverage) -> str:
    """uv's pylock.toml with pyve's inputs under [tool.pyve] (PEP 751 keeps [tool] for the
    tools that write the file), checked by parsing it back."""
    from pyve.project import tomllib

    table = (f"\n[tool.pyve]\nwritten-by = \"pyve\"\ninputs = {json.dumps(inputs)}\n"
             f"covers = {json.dumps(covers.text())}\n")
    result = text.rstrip("\n") + "\n" + table
    data = tomllib.loads(result)
    if _table(data, "tool", "pyve").get("inputs") != inputs:
        raise PyveError(f"could not add pyve's inputs to {PYLOCK_FILE}",
                        hint="report this: uv's pylock.toml has a [tool.pyve] table already")
    return result


def pylock_inputs(path: Path) -> str | None:
    inputs = (pyve_table(path) or {}).get("inputs")
    return inputs if isinstance(inputs, str) else None


def lock_problems(root: Path, sources: list[str], *, missing_pylock: bool = True,
                  content: bool = True) -> list[str]:
    """Why requirements.lock.txt or pyve's pylock.toml does not hold for the sources as they
    are (empty: both are fresh). For --frozen, doctor and `lock --check`. missing_pylock:
    a pylock.toml not there counts (--frozen installs requirements.lock.txt: a clone that
    did not commit pylock.toml still installs; one that disagrees with it does not).
    content: an edit made outside pyve counts (--frozen checks it after the entries)."""
    lock = root / LOCK_FILE
    if not lock.is_file():
        return [f"{LOCK_FILE} is missing"]
    edited = changed_outside(root) if content else None  # said last: the others are exacter
    recorded = pip.lock_inputs(lock)
    if recorded is None:
        return [f"{LOCK_FILE} does not say what it was locked from"]
    now = pip.inputs_text(root, sources)
    problems = []
    if recorded != now:
        changed = pip.changed_inputs(recorded, now)
        problems.append(f"{LOCK_FILE} is stale: {', '.join(changed) or 'sources'} changed "
                        "since it was written")
    if PYLOCK_NOTE in lock.read_text(encoding="utf-8"):
        pylock = root / PYLOCK_FILE
        if not pylock.is_file():
            if missing_pylock:
                problems.append(f"{PYLOCK_FILE} is missing (written with {LOCK_FILE})")
        elif not is_pyves(pylock):
            problems.append(f"{PYLOCK_FILE} was not written by pyve: it has no [tool.pyve]")
        elif pylock_inputs(pylock) != recorded:
            problems.append(f"{PYLOCK_FILE} does not match {LOCK_FILE}: they were written "
                            "from different inputs")
    return [*problems, *([edited] if edited else [])]


_UNSOLVABLE = ("no solution found", "unsatisfiable")


def unsolvable(message: str) -> bool:
    """uv's resolver proved there is no lock (not a network or build failure)."""
    low = message.lower()
    return any(word in low for word in _UNSOLVABLE)


def compile_lock(python: Path, root: Path, sources: list[str], extras: tuple[str, ...] = (),
                 groups: tuple[str, ...] = (), covers: Coverage | None = None, *,
                 pylock: bool = False, plan: Plan | None = None) -> tuple[list[str], str | None]:
    """The lock's entries, as uv's universal resolver writes them; and (pylock) the same
    resolution as pylock.toml. Without `plan`: pinned to what the env holds, for its Python
    and newer (a lock of an env built already). With one: resolved from the sources alone,
    the plan's preferences kept where they still fit, and `plan.during(entries)` (the
    install) run while uv writes pylock.toml."""
    uv_exe = uv.find_uv()
    if uv_exe is None:
        raise PyveError("writing requirements.lock.txt needs uv (its universal resolver "
                        "finds every file's hash), and uv is not installed",
                        hint="pip install uv (pyve-env depends on it; a broken install lost it)")
    from concurrent.futures import ThreadPoolExecutor

    from packaging.version import Version

    version = _env_version(python)
    minor = ".".join(version.split(".")[:2])
    covers = covers or coverage(root, version)
    # a plan with the previous lock's pins needs nothing of the env's METADATA
    installed = [f"{name}=={version}" for name, version in _installed(python)] \
        if plan is None or not plan.prefer else []
    # what is hashed early: the pins the lock will most likely hold
    likely = installed if plan is None else [*plan.prefer, *installed]
    # The env's versions hold for its Python and newer; below it (requires-python's lower
    # bound) uv picks what those Pythons can install, preferring the same versions.
    older = bool(minor) and Version(covers.python) < Version(minor)
    only_here = f" ; python_version >= '{minor}'" if older else ""
    env = uv.uv_env(python)
    name = project_name(root)
    with tempfile.TemporaryDirectory(prefix="pyve-lock-") as tmp, \
            ThreadPoolExecutor(max_workers=1) as pool:
        # The lock pins what is installed: hash those files in find-links folders while uv
        # resolves (hashlib works outside the GIL), the few pins only uv knows after it.
        file_hashes = _load_file_hashes()
        known_files = len(file_hashes)
        early = pool.submit(_find_links_hashes, likely, env, file_hashes)
        pins = Path(tmp) / "installed.txt"
        pins.write_text("".join(f"{pin}{only_here}\n" for pin in installed), encoding="utf-8")
        out = Path(tmp) / "lock.txt"  # uv prefers the versions an output file holds
        out.write_text("".join(f"{pin}\n" for pin in (installed if plan is None
                                                       else plan.prefer)), encoding="utf-8")
        pinned: list[str | Path] = ["--constraint", pins] if plan is None else [
            flag for file in plan.constraints for flag in ("--constraint", file)]
        common: list[str | Path] = [
            uv_exe, "pip", "compile", "--universal", "--generate-hashes", "--no-annotate",
            "--no-header", "--quiet", "--python", python, "--python-version", covers.python,
            *uv.uv_index_flags(python), *(["--no-emit-package", name] if name else []),
            *uv.fresh_flags(scan(root, sources).projects.values(), "--refresh"),
            *_environments_project(root, covers, Path(tmp)),
            *(f"--extra={e}" for e in extras), *(f"--group={g}" for g in groups),
            *(str(env_section_file(root, Path(tmp))) if s == ENV_FILE else s
              for s in sources)]
        hint = (f"the lock must hold for python >= {covers.python} on "
                + (" or ".join(covers.environments) if covers.environments
                   else "every platform")
                + ": narrow it with lock_environments = [\"sys_platform == 'linux'\"] in "
                "pyve.toml (or [tool.uv] environments), or raise requires-python; re-run "
                "with -v for uv's reasoning")
        proc.run([*common, "--no-strip-extras", *pinned, "-o", out], cwd=root,
                 env=env, what="uv pip compile (the lock)", hint=hint)
        text = out.read_text(encoding="utf-8")
        entries = _logical_lines(text.splitlines())
        local_files = early.result()
        hashed = {_pin_key(pin) for pin in likely}
        local_files.update(_find_links_hashes(
            [r for _n, r, _h in entries if _pin_key(r) not in hashed], env, file_hashes))
        _save_file_hashes(file_hashes, known_files)
        if "--no-index" not in uv.uv_index_flags(python):
            for key, found in _index_hashes([(r, h) for _n, r, h in entries if h], env,
                                            python).items():
                local_files[key] = [*local_files.get(key, []), *found]
        body: list[str] = []
        local: list[str] = []
        for _line, requirement, hashes in entries:
            if requirement.startswith("-") or not hashes:
                local.append(requirement)  # -e ./lib, ./lib: a path has no hash to lock
                continue
            every = sorted({*hashes, *local_files.get(_pin_key(requirement), [])})
            body.append(requirement + "".join(f" \\\n    --hash={h}" for h in every))
        lines = [*body, *(f"{LOCAL_PREFIX}{r}" for r in local)]

        def write_pylock() -> str:
            """The same versions, in the standard format: constrained to the lock."""
            exact = Path(tmp) / "exact.txt"
            # a file or URL without a name cannot be a constraint (uv refuses it)
            exact.write_text("".join(_without_extras(r) + "\n" for _n, r, h in entries
                                     if h and prune.requirement_name(r) is not None),
                             encoding="utf-8")
            target = Path(tmp) / PYLOCK_FILE
            proc.run([*common, "--format", "pylock.toml", "--constraint", exact, "-o", target],
                     cwd=root, env=env, what=f"uv pip compile ({PYLOCK_FILE})", hint=hint)
            return target.read_text(encoding="utf-8")

        later = pool.submit(write_pylock) if pylock else None
        if plan is not None:  # the install, while uv writes pylock.toml
            plan.during(parse_entries(lines, LOCK_FILE))
        pylock_text = later.result() if later is not None else None
    return lines, pylock_text


def _plain(value: object) -> bool:
    """A setting JSON writes as valid TOML: a string, a flag, a number, a list of strings."""
    return isinstance(value, (str, bool, int)) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value))


def _without_extras(requirement: str) -> str:
    """`pydantic[email]==2.12.5 ; marker` -> `pydantic==2.12.5 ; marker` (a constraint)."""
    return re.sub(r"\[[^\]]*\]", "", requirement, count=1)


def _environments_project(root: Path, covers: Coverage, tmp: Path) -> list[str]:
    """uv reads `environments` only from a project's [tool.uv]: pyve.toml's markers go into
    a pyproject.toml of their own, beside the project's other [tool.uv] settings."""
    if covers.environments_from != "pyve.toml lock_environments":
        return []  # the project's own [tool.uv] (if any) is read from the root, as ever
    settings = {k: v for k, v in _table(_pyproject(root), "tool", "uv").items()
                if k != "environments" and _plain(v)}
    lines = ["[tool.uv]", f"environments = {json.dumps(list(covers.environments))}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    project = tmp / "lock-project"
    project.mkdir()
    (project / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["--project", str(project)]


LOCAL_PREFIX = "# not hash-locked (a local path): "


def local_paths(lock: Path) -> list[list[str]]:
    """The lock's local paths as pip arguments: [["-e", "./lib"], ["./tools"]]."""
    found = []
    for line in _lock_text(lock).splitlines():
        if line.startswith(LOCAL_PREFIX):
            found.append(line[len(LOCAL_PREFIX):].split(None, 1))
    return found


def _pin_key(requirement: str) -> tuple[str, str]:
    """`pydantic[email]==2.12.5 ; marker` -> ("pydantic", "2.12.5")."""
    pin = requirement.split(";", 1)[0].strip()
    name, _, version = pin.partition("==")
    return pip.canonical_name(name.split("[", 1)[0].strip()), version.strip()


FILE_HASHES = "file-hashes.json"  # find-links files' sha256, by identity


def _file_hashes_path() -> Path:
    """In pyve's user cache ($XDG_CACHE_HOME/pyve, else ~/.cache/pyve), beside uv's cache
    rather than in the env: a cold build makes a new env, and hashing a wheelhouse again
    read ~150 MB for 56 packages (0.3-0.7 s of the cold build)."""
    return user_cache_dir() / FILE_HASHES


def _load_file_hashes() -> dict[str, list[object]]:
    try:
        data = json.loads(_file_hashes_path().read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_file_hashes(cache: dict[str, list[object]], before: int) -> None:
    if len(cache) == before:
        return
    path = _file_hashes_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(cache, sort_keys=True) + "\n")
    except OSError:
        pass  # a read-only home: the files are hashed again next time


def _file_sha256(file: Path, cache: dict[str, list[object]] | None) -> str:
    """A wheelhouse file's sha256, read again only when its size, mtime, inode or ctime
    changed (ctime moves on every write and on a reset mtime, so a file replaced in place
    is read again)."""
    import hashlib

    stat = file.stat()
    identity: list[object] = [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns]
    known = cache.get(str(file)) if cache is not None else None
    if isinstance(known, list) and len(known) == 5 and known[:4] == identity \
            and isinstance(known[4], str):
        return known[4]
    digest = "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()
    if cache is not None:
        cache[str(file)] = [*identity, digest]
    return digest


def _find_links_hashes(requirements: list[str], env: dict[str, str],
                       cache: dict[str, list[object]] | None = None
                       ) -> dict[tuple[str, str], list[str]]:
    """uv hashes only the one file it picked from a find-links directory (astral-sh/uv#10308):
    add the sha256 of every file there for each locked name==version, as an index lists
    them, so the lock installs on other Pythons and platforms too."""

    dirs: list[Path] = []
    # uv's folders, pip's among them (pip.conf and PIP_FIND_LINKS, carried over by uv_env)
    for entry in env.get("UV_FIND_LINKS", "").split(","):
        path = Path(entry.strip().removeprefix("file://"))
        if entry.strip() and path.is_dir() and path not in dirs:
            dirs.append(path)
    wanted = {_pin_key(r) for r in requirements if "==" in r}
    if not dirs or not wanted:
        return {}
    # A wheelhouse can hold thousands of files: look closely only at the wanted names.
    prefixes = tuple({name.replace("-", sep) for name, _ in wanted for sep in "-_."})
    found: dict[tuple[str, str], list[str]] = {}
    for directory in dirs:
        for file in sorted(directory.iterdir()):
            if file.name.lower().startswith(prefixes) and _archive_key(file.name) in wanted:
                digest = _file_sha256(file, cache)
                found.setdefault(_archive_key(file.name), []).append(digest)  # type: ignore[arg-type]
    return found


PYPI = "https://pypi.org/simple"


INDEX_HASHES = ".pyve-index-hashes.json"  # in the env: every index's files of each pin


def _index_hashes(entries: list[tuple[str, list[str]]], env: dict[str, str],
                  python: Path) -> dict[tuple[str, str], list[str]]:
    """With an extra index, uv hashes the files of the first index offering a version (a
    partial mirror: one platform's wheel): add the sha256 of every file of every index that
    lists that name==version, so the lock installs wherever the primary index's files do.
    `entries`: (requirement, the hashes uv wrote). A pin whose pages were read for the same
    indexes by an earlier build of this env (`python`'s), and whose hashes from uv are still
    among what they listed, is not fetched again: a one-line change reads one name's pages,
    not every name's (3 of 4.5 s online, 56 pins). A file added to that version on the
    first index changes uv's hashes, so it is read again."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from pyve.installers import simpleindex

    extra = env.get("UV_EXTRA_INDEX_URL", "").split()
    if not extra:
        return {}  # one index: uv listed every file of it
    indexes = list(dict.fromkeys([env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL")
                                  or PYPI, *extra]))
    # the URLs may carry credentials: the cache names them by digest only
    which = hashlib.sha256("\n".join(indexes).encode()).hexdigest()
    cache = Path(python).parent.parent / INDEX_HASHES
    known = _load_index_hashes(cache, which)
    found: dict[tuple[str, str], list[str]] = {}
    wanted: set[tuple[str, str]] = set()
    for requirement, hashes in entries:
        if "==" not in requirement:
            continue
        key = _pin_key(requirement)
        seen = known.get(f"{key[0]}=={key[1]}")
        if seen and set(hashes) <= set(seen):
            found[key] = list(seen)
        else:
            wanted.add(key)
    names = sorted({name for name, _version in wanted})
    jobs = [(index, name) for index in indexes for name in names]
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda job: simpleindex.project_files(job[0], job[1], env),
                              jobs))
    read: dict[tuple[str, str], list[str]] = {}
    for files in pages:
        for filename, digest, _url in files:
            archive = _archive_key(filename)
            if archive in wanted and _SHA256.fullmatch(digest.lower()):
                read.setdefault(archive, []).append(f"sha256:{digest.lower()}")  # type: ignore[arg-type]
    found.update(read)
    if read and cache.parent.is_dir():
        known.update({f"{name}=={version}": sorted(set(files))
                      for (name, version), files in read.items()})
        atomic_write_text(cache, json.dumps({"indexes": which, "pins": known},
                                            sort_keys=True) + "\n")
    return found


def _load_index_hashes(cache: Path, which: str) -> dict[str, list[str]]:
    """What an earlier build read from these indexes (by their digest): name==version ->
    every file's "sha256:..."; empty for other indexes, or no readable cache."""
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    pins = data.get("pins") if isinstance(data, dict) and data.get("indexes") == which else None
    if not isinstance(pins, dict):
        return {}
    return {pin: files for pin, files in pins.items()
            if isinstance(files, list) and all(isinstance(f, str) for f in files)}


def _archive_key(filename: str) -> tuple[str, str] | None:
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (pip.canonical_name(parts[0]), parts[1]) if len(parts) >= 5 else None
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            name, _, version = filename[: -len(ext)].rpartition("-")
            return (pip.canonical_name(name), version) if name else None
    return None


def _read_distributions(env: Path) -> Iterator[tuple[str, str, bool]]:
    """(name, version, editable) of each distribution in the env's site-packages, read from
    its METADATA as importlib.metadata finds it (egg-info too)."""
    from importlib.metadata import distributions

    from pyve.installers.distinfo import headers

    for site in sorted(env.glob("lib/python*/site-packages")):
        for dist in distributions(path=[str(site)]):
            meta = headers(dist)
            if meta["Name"]:
                yield meta["Name"], meta["Version"], pip._is_editable(dist)


def _installed(python: Path) -> list[tuple[str, str]]:
    """Every distribution in the env except editables, pip's own tools included: a source
    that asks for setuptools must lock the setuptools it got."""
    found: dict[str, tuple[str, str]] = {}
    for name, version, editable in _read_distributions(Path(python).parent.parent):
        if not editable:
            found.setdefault(pip.canonical_name(name), (name, version))
    return sorted(found.values())


def _installed_versions(python: Path) -> dict[str, str | None]:
    """canonical name -> version of every distribution in the env (None: an editable), from
    the dist-info folders' names, as installers write them from the wheel: no METADATA is
    read (~0.2 s for 56 packages under load, on the one-line change's path). A folder whose
    name does not give the version its METADATA holds is read; an env with egg-info
    (a legacy install) is read as importlib.metadata sees it."""
    from pyve.installers import distinfo

    env = Path(python).parent.parent
    if any(env.glob("lib/python*/site-packages/*.egg-info")):
        found: dict[str, str | None] = {}
        for name, version, editable in _read_distributions(env):
            found.setdefault(pip.canonical_name(name), None if editable else version)
        return found
    from importlib.metadata import PathDistribution

    versions: dict[str, str | None] = {}  # (dist-info folders without METADATA are skipped,
    # as importlib.metadata skips them)
    for name, (version, folder) in distinfo.installed(env).items():
        dist = PathDistribution(folder)
        if (folder / "direct_url.json").is_file() and pip._is_editable(dist):
            versions[name] = None
        elif (folder / "METADATA").is_file():
            versions[name] = version
    return versions


def _metadata_version(python: Path, name: str) -> str | None:
    """The Version header of `name`'s dist-info METADATA (where its folder's name may
    spell the version otherwise), or None."""
    from importlib.metadata import PathDistribution

    from pyve.installers import distinfo

    found = distinfo.installed(Path(python).parent.parent).get(name)
    if found is None:
        return None
    return distinfo.headers(PathDistribution(found[1]))["Version"]


def _env_version(python: Path) -> str:
    cfg = Path(python).parent.parent / "pyvenv.cfg"
    try:
        for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in ("version", "version_info"):
                return value.strip()
    except OSError:
        pass
    return ""


# --- reading --------------------------------------------------------------------------------

def _logical_lines(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """(first line number, requirement, ["sha256:..."]) per entry; comments and blanks skipped,
    backslash continuations joined."""
    result: list[tuple[int, str, list[str]]] = []
    buffer, start = "", 0
    for number, raw in enumerate(lines, 1):
        text = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        buffer += " " + text.strip().removesuffix("\\")
        if text.rstrip().endswith("\\"):
            continue
        parts = buffer.split()
        buffer = ""
        if not parts:
            continue
        hashes = [p.removeprefix("--hash=") for p in parts if p.startswith("--hash=")]
        requirement = " ".join(p for p in parts if not p.startswith("--hash="))
        result.append((start, requirement, hashes))
    return result


def _lock_text(lock: Path) -> str:
    try:
        return lock.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # its bytes stay out of the line: they may be anything
        raise PyveError(f"{lock.name}: not UTF-8 text (byte {exc.start + 1} cannot be read)",
                        hint=_REHASH) from None
    except OSError as exc:
        raise PyveError(f"cannot read {lock.name}: {exc.strerror}", hint=_REHASH) from None


def read_lock(lock: Path) -> list[LockEntry]:
    """The lock's entries; any entry not pinned with == or without a valid sha256 is an error
    (pip would install it unchecked, or refuse the whole file half-way)."""
    return parse_entries(_lock_text(lock).splitlines(), lock.name)


def parse_entries(lines: list[str], name: str) -> list[LockEntry]:
    """read_lock's entries of a lock's text (its lines, or its entries as written)."""
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement

    lines = "\n".join(lines).splitlines()
    entries: list[LockEntry] = []
    for number, requirement, hashes in _logical_lines(lines):
        where = f"{name} line {number}"
        if requirement.startswith("-"):
            raise PyveError(f"{where}: `{requirement[:60]}` is not a pinned package",
                            hint=_REHASH)
        try:
            req = Requirement(requirement)
        except InvalidRequirement:
            raise PyveError(f"{where}: cannot read `{requirement[:60]}`", hint=_REHASH) from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise PyveError(f"{where}: {req.name} is not pinned with ==", hint=_REHASH)
        digests = []
        for value in hashes:
            algo, _, digest = value.partition(":")
            if algo != "sha256" or not _SHA256.fullmatch(digest):
                raise PyveError(f"{where}: {req.name}: `{value[:80]}` is not a sha256 hash",
                                hint=_REHASH)
            digests.append(digest)
        if not digests:
            raise PyveError(f"{where}: {req.name}=={specs[0].version} has no sha256 hash",
                            hint=_REHASH)
        entries.append(LockEntry(number, pip.canonical_name(req.name), specs[0].version,
                                 requirement, tuple(digests),
                                 Marker(str(req.marker)) if req.marker else None))
    return entries


_MARKER_ENVS: dict[str, dict[str, str]] = {}
MARKERS_FILE = ".pyve-markers.json"  # in the env: its interpreter's PEP 508 values


def marker_environment(python: Path) -> dict[str, str]:
    """PEP 508 marker values of the env's interpreter (packaging's own function, run there)."""
    key = str(python)
    # kept in the env (it dies with it; a changed interpreter makes a new env): a Python
    # start costs ~0.1 s of every build
    saved = Path(python).parent.parent / MARKERS_FILE
    if key not in _MARKER_ENVS:
        try:
            found = json.loads(saved.read_text(encoding="utf-8"))
            if isinstance(found, dict) and found.get("python") == os.path.realpath(python) \
                    and isinstance(found.get("markers"), dict):
                _MARKER_ENVS[key] = found["markers"]
        except (OSError, ValueError, RecursionError):
            pass
    if key not in _MARKER_ENVS:
        import packaging

        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
                "from packaging.markers import default_environment as d; print(json.dumps(d()))")
        out = subprocess.run([str(python), "-I", "-c", code,
                              str(Path(packaging.__file__).parent.parent)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise PyveError(f"cannot run the environment's python ({python})",
                            hint="`pyve build --force` makes the environment again")
        _MARKER_ENVS[key] = json.loads(out.stdout)
        if saved.parent.is_dir():
            atomic_write_text(saved, json.dumps({"python": os.path.realpath(python),
                                                 "markers": _MARKER_ENVS[key]}) + "\n")
    return _MARKER_ENVS[key]


def applicable(entries: list[LockEntry], python: Path) -> list[LockEntry]:
    """The entries whose marker holds for this env."""
    env = marker_environment(python) if any(e.marker for e in entries) else {}
    return [e for e in entries
            if e.marker is None or e.marker.evaluate({**env, "extra": ""})]  # type: ignore[attr-defined]


# --- the env against the lock ---------------------------------------------------------------

NEVER_CHECKED = "installed file never checked against the lock"
NOT_LISTED = "installed file's sha256 is not in the lock"
NOT_INSTALLED = "not installed"


def unverified(python: Path, wanted: list[LockEntry]) -> list[tuple[LockEntry, str]]:
    """Entries the env does not hold as locked, with why: missing, another version, or
    installed from a file the lock does not list (a hand-edited hash), or from a file
    pyve never saw (installed before pyve checked it)."""
    installed = _installed_versions(python)
    known = pip.recorded_hashes(python)
    result = []
    for entry in wanted:
        version = installed.get(entry.name, "")
        if not version:  # missing, or an editable (None): the lock's file replaces it
            result.append((entry, NOT_INSTALLED if entry.name not in installed
                           else "installed as an editable"))
        elif version != entry.version and _metadata_version(python, entry.name) \
                != entry.version:
            result.append((entry, f"{version} installed, {entry.version} locked"))
        else:
            seen = known.get(f"{entry.name}=={entry.version}")
            if not seen:
                result.append((entry, NEVER_CHECKED))
            elif not set(seen) <= set(entry.hashes):
                result.append((entry, NOT_LISTED))
    return result


def differences(root: Path, python: Path) -> list[str]:
    """How the env differs from the lock, one phrase per package (empty: it is the lock)."""
    wanted = applicable(read_lock(root / LOCK_FILE), python)
    found = [f"{entry.name} {why}" for entry, why in unverified(python, wanted)]
    versions = {pip.canonical_name(n): v for n, v in _installed(python)}
    found += [f"{name} {versions.get(name, '?')} installed, not locked"
              for name in prune.unlisted(python, {e.name for e in wanted})]
    return found


def mismatch(root: Path, python: Path) -> str | None:
    """Why the env is not exactly the lock (None: it is), for the frozen pip-deps check."""
    if not (root / LOCK_FILE).is_file() or not python.exists():
        return None  # the frozen check and create-env say these
    found = differences(root, python)
    if not found:
        return None
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    return f"environment differs from {LOCK_FILE}: {found[0]}{more}"


def constraint_violations(python: Path, wanted: list[LockEntry]) -> list[str]:
    """The user's constraints (pip.conf `constraint`, PIP_CONSTRAINT, UV_CONSTRAINT) against
    the locked pins that apply here: one phrase per pin outside one. `torch<=2.14.1` on a
    shared machine is common; uv refuses such a range under --require-hashes, so pyve checks
    it here and installs the lock without it."""
    from packaging.requirements import InvalidRequirement, Requirement

    by_name = {entry.name: entry for entry in wanted}
    found = []
    for file, origin in uv.constraint_files(python):
        try:
            text = Path(file.removeprefix("file://")).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # a URL, or unreadable: the installer says so when it reads it
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith(("#", "-")):
                continue
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            entry = by_name.get(pip.canonical_name(req.name))
            if entry is None or not req.specifier:
                continue
            if req.marker is not None and not req.marker.evaluate(
                    {**marker_environment(python), "extra": ""}):
                continue
            if not req.specifier.contains(entry.version, prereleases=True):
                found.append(f"{entry.name}=={entry.version} in {LOCK_FILE} is outside the "
                             f"constraint `{line}` ({file}, set by {origin})")
    return found


def previous_pins(root: Path) -> list[str]:
    """The pins of pyve's requirements.lock.txt as it is (none when there is none, or it is
    not pyve's): a re-lock keeps them where they still fit (uv prefers an output file's
    pins), so a one-line change moves only what it needs."""
    lock = root / LOCK_FILE
    try:
        text = lock.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if not text.startswith(pip.LOCK_HEADER):
        return []
    return [requirement for _n, requirement, hashes in _logical_lines(text.splitlines())
            if hashes and "==" in requirement and not requirement.startswith("-")]


def install_entries(python: Path, root: Path, entries: list[LockEntry],
                    installer: Installer) -> set[str]:
    """Install the lock's entries whose marker holds here and that the env does not hold as
    locked (missing, another version, a file not checked against the lock), hash-checked and
    without resolving again (`--require-hashes --no-deps`): a one-line change installs only
    the difference. Returns the names the lock says this env needs."""
    wanted = applicable(entries, python)
    # the locked version installed from a file pyve never saw (`pip install x` by hand, as
    # the Backends Guide does) is kept, as `uv pip sync` keeps it; --frozen checks it
    _install_locked(python, root, installer,
                    [(entry, why) for entry, why in unverified(python, wanted)
                     if why != NEVER_CHECKED])
    return {entry.name for entry in wanted}


def _install_locked(python: Path, root: Path, installer: Installer,
                    todo: list[tuple[LockEntry, str]], reread: bool = False) -> None:
    """These lock entries (with why each is not as locked), hash-checked and without
    resolving (`--require-hashes --no-deps`). Those installed in any version are replaced
    by name (`1.0+cpu` satisfies `==1.0`); the missing ones need no flag, so the installer's
    cache is left alone (uv's `--reinstall` refreshes all of it: 0.1-0.4 s to add one
    package to 56)."""
    if not todo:
        return
    replace = tuple(entry.name for entry, why in todo if why != NOT_INSTALLED)
    with tempfile.TemporaryDirectory(prefix="pyve-locked-") as tmp:
        subset = Path(tmp) / "locked.txt"
        subset.write_text("".join(e.text() + "\n" for e, _why in todo), encoding="utf-8")
        installer.install_locked(python, subset, root, f"pip install from {LOCK_FILE}",
                                 {f"{e.name}=={e.version}": list(e.hashes) for e, _w in todo},
                                 replace=replace, reread=reread)


def install_exact(python: Path, root: Path, installer: Installer) -> None:
    """Make the env exactly the lock: install (hash-checked) what is missing, of another
    version or not verified, and remove what the lock does not list."""
    entries = read_lock(root / LOCK_FILE)
    wanted = applicable(entries, python)
    outside = constraint_violations(python, wanted)
    if outside:  # the lock is installed without the constraints: never past one
        more = f" (+{len(outside) - 1} more)" if len(outside) > 1 else ""
        raise PyveError(outside[0] + more,
                        hint="loosen the constraint, or re-lock within it (`pyve build` "
                             f"without --frozen), then commit {LOCK_FILE}")
    # CI's path: every file read from its source again and checked, none trusted to a cache
    _install_locked(python, root, installer, unverified(python, wanted), reread=True)
    prune.sync_exact(python, root, {e.name for e in wanted}, installer)
