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
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyve import proc
from pyve.installers import Installer, pip, prune, uv
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text
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

def write_lock(python: Path, root: Path, sources: list[str], *, inputs: str,
               extras: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> Path:
    lock = root / LOCK_FILE
    if lock.exists() and not lock.read_bytes().startswith(pip.LOCK_HEADER.encode()):
        raise PyveError(
            f"{LOCK_FILE} exists and was not written by pyve; refusing to overwrite it",
            hint=f"rename or delete {LOCK_FILE} if pyve may own it",
        )
    body = compile_lock(python, root, sources, extras, groups) if sources else []
    lines = [pip.LOCK_HEADER, f"# Install with: pip install --require-hashes -r {LOCK_FILE}",
             pip.INPUTS_PREFIX + inputs, *body]
    atomic_write_text(lock, "\n".join(lines) + "\n")
    return lock


def compile_lock(python: Path, root: Path, sources: list[str], extras: tuple[str, ...] = (),
                 groups: tuple[str, ...] = ()) -> list[str]:
    """The lock's entries, as uv's universal resolver writes them, pinned to the env."""
    uv_exe = uv.find_uv()
    if uv_exe is None:
        raise PyveError("writing requirements.lock.txt needs uv (its universal resolver "
                        "finds every file's hash), and uv is not installed",
                        hint="pip install uv (pyve-env depends on it; a broken install lost it)")
    from concurrent.futures import ThreadPoolExecutor

    minor = ".".join(_env_version(python).split(".")[:2])
    installed = [f"{name}=={version}" for name, version in _installed(python)]
    env = uv.uv_env(python)
    with tempfile.TemporaryDirectory(prefix="pyve-lock-") as tmp, \
            ThreadPoolExecutor(max_workers=1) as pool:
        # The lock pins what is installed: hash those files in find-links folders while uv
        # resolves (hashlib works outside the GIL), the few pins only uv knows after it.
        early = pool.submit(_find_links_hashes, installed, env)
        pins = Path(tmp) / "installed.txt"
        pins.write_text("".join(f"{pin}\n" for pin in installed), encoding="utf-8")
        out = proc.run(
            [uv_exe, "pip", "compile", "--universal", "--generate-hashes", "--no-strip-extras",
             "--no-annotate", "--no-header", "--quiet", "--python", python,
             *(["--python-version", minor] if minor else []), *uv.uv_index_flags(python),
             *uv.fresh_flags(scan(root, sources).projects.values(), "--refresh"),
             "--constraint", pins, *(f"--extra={e}" for e in extras),
             *(f"--group={g}" for g in groups),
             *(str(env_section_file(root, Path(tmp))) if s == ENV_FILE else s
               for s in sources)],
            cwd=root, env=env, what="uv pip compile (the lock)",
            hint="the installed versions must be resolvable from the index for every Python "
                 f">= {minor or 'this one'}; re-run with -v for uv's reasoning",
        )
        local_files = early.result()
    entries = _logical_lines(out.splitlines())
    hashed = {_pin_key(pin) for pin in installed}
    local_files.update(_find_links_hashes(
        [r for _n, r, _h in entries if _pin_key(r) not in hashed], env))
    body: list[str] = []
    local: list[str] = []
    for _line, requirement, hashes in entries:
        if requirement.startswith("-") or not hashes:
            local.append(requirement)  # -e ./lib, ./lib: a path has no hash to lock
            continue
        every = sorted({*hashes, *local_files.get(_pin_key(requirement), [])})
        body.append(requirement + "".join(f" \\\n    --hash={h}" for h in every))
    return [*body, *(f"{LOCAL_PREFIX}{r}" for r in local)]


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


def _find_links_hashes(requirements: list[str], env: dict[str, str]
                       ) -> dict[tuple[str, str], list[str]]:
    """uv hashes only the one file it picked from a find-links directory (astral-sh/uv#10308):
    add the sha256 of every file there for each locked name==version, as an index lists
    them, so the lock installs on other Pythons and platforms too."""
    import hashlib

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
                digest = "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()
                found.setdefault(_archive_key(file.name), []).append(digest)  # type: ignore[arg-type]
    return found


def _archive_key(filename: str) -> tuple[str, str] | None:
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (pip.canonical_name(parts[0]), parts[1]) if len(parts) >= 5 else None
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            name, _, version = filename[: -len(ext)].rpartition("-")
            return (pip.canonical_name(name), version) if name else None
    return None


def _installed(python: Path) -> list[tuple[str, str]]:
    """Every distribution in the env except editables, pip's own tools included: a source
    that asks for setuptools must lock the setuptools it got."""
    from importlib.metadata import distributions

    from pyve.installers.distinfo import headers

    env = Path(python).parent.parent
    found: dict[str, tuple[str, str]] = {}
    for site in sorted(env.glob("lib/python*/site-packages")):
        for dist in distributions(path=[str(site)]):
            meta = headers(dist)
            name = meta["Name"]
            if name and not pip._is_editable(dist):
                found.setdefault(pip.canonical_name(name), (name, meta["Version"]))
    return sorted(found.values())


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
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement

    lines = _lock_text(lock).splitlines()
    entries: list[LockEntry] = []
    for number, requirement, hashes in _logical_lines(lines):
        where = f"{lock.name} line {number}"
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


def marker_environment(python: Path) -> dict[str, str]:
    """PEP 508 marker values of the env's interpreter (packaging's own function, run there)."""
    key = str(python)
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
    return _MARKER_ENVS[key]


def applicable(entries: list[LockEntry], python: Path) -> list[LockEntry]:
    """The entries whose marker holds for this env."""
    env = marker_environment(python) if any(e.marker for e in entries) else {}
    return [e for e in entries
            if e.marker is None or e.marker.evaluate({**env, "extra": ""})]  # type: ignore[attr-defined]


# --- the env against the lock ---------------------------------------------------------------

def unverified(python: Path, wanted: list[LockEntry]) -> list[tuple[LockEntry, str]]:
    """Entries the env does not hold as locked, with why: missing, another version, or
    installed from a file the lock does not list (a hand-edited hash), or from a file
    pyve never saw (installed before pyve checked it)."""
    installed = {pip.canonical_name(n): v for n, v in _installed(python)}
    known = pip.recorded_hashes(python)
    result = []
    for entry in wanted:
        version = installed.get(entry.name)
        if version is None:
            result.append((entry, "not installed"))
        elif version != entry.version:
            result.append((entry, f"{version} installed, {entry.version} locked"))
        else:
            seen = known.get(f"{entry.name}=={version}")
            if not seen:
                result.append((entry, "installed file never checked against the lock"))
            elif not set(seen) <= set(entry.hashes):
                result.append((entry, "installed file's sha256 is not in the lock"))
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


def install_exact(python: Path, root: Path, installer: Installer) -> None:
    """Make the env exactly the lock: install (hash-checked) what is missing, of another
    version or not verified, and remove what the lock does not list."""
    entries = read_lock(root / LOCK_FILE)
    wanted = applicable(entries, python)
    todo = [entry for entry, _why in unverified(python, wanted)]
    if todo:
        with tempfile.TemporaryDirectory(prefix="pyve-frozen-") as tmp:
            subset = Path(tmp) / "locked.txt"
            subset.write_text("".join(e.text() + "\n" for e in todo), encoding="utf-8")
            installer.install_locked(python, subset, root, f"pip install from {LOCK_FILE}",
                                     {f"{e.name}=={e.version}": list(e.hashes) for e in todo})
    prune.sync_exact(python, root, {e.name for e in wanted}, installer)
