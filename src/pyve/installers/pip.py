"""pip stages shared by both backends: install a project's pip dependencies, and write the
hashed, pinned requirements lock. Always `<env python> -m pip`, never a bare `pip`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pyve import proc, progress
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text
from pyve.installers.activity import InstallerActivity

LOCK_FILE = "requirements.lock.txt"
LOCK_HEADER = "# requirements.lock.txt -- written by pyve from the environment; do not edit."


def pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.pop("PYTHONHOME", None)
    return env


def install(python: Path, args: list[str], cwd: Path, what: str, *, installer: str = "pip",
            record_hashes: bool = False) -> None:
    """`python -m pip install ARGS` (or `uv pip install --python python ARGS`); a failure
    says what in pip's (or uv's) output explains it, with a hint that fits that failure.
    record_hashes: keep the sha256 of each file pip installed (in the env), so `--frozen`
    can tell whether an installed package came from a file the lock lists."""
    if not args:
        return
    feed = InstallerActivity(progress.update)  # their output lines -> the live line
    try:
        if installer == "uv":
            progress.update("resolving with uv")  # uv says nothing until it has resolved
            proc.run([uv_bin(), "pip", "install", *uv_index_flags(), "--python", python,
                      *args], cwd=cwd, env=uv_env(), what=what.replace("pip", "uv pip", 1),
                     on_line=feed)
            return
        progress.update("starting pip")  # pip reads its indexes before it says anything
        if not record_hashes:
            proc.run([python, "-m", "pip", "install", "--no-input", *args], cwd=cwd,
                     env=pip_env(), what=what, on_line=feed)
            return
        with tempfile.TemporaryDirectory(prefix="pyve-pip-") as tmp:
            report = Path(tmp) / "report.json"
            proc.run([python, "-m", "pip", "install", "--no-input", "--report", report, *args],
                     cwd=cwd, env=pip_env(), what=what, on_line=feed)
            try:
                data = json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return  # no report: --frozen checks these packages' files again
    except PyveError as exc:
        if exc.hint is None:
            exc.hint = failure_hint(exc.message)
        raise
    remember_hashes(python, data)


VERBOSE = "re-run with -v (`pyve -v build`) for the installer's full output"


def failure_hint(message: str) -> str:
    """What to do, for the kind of failure the message shows."""
    low = message.lower()
    if "hash mismatch" in low:
        return ("the file differs from the locked one: re-lock (`pyve build` without --frozen) "
                "only if you trust the new file; " + VERBOSE)
    if "building " in low or "failed to build" in low or "and build `" in low:
        return ("a source distribution failed to build: install what it needs to build "
                "(a compiler, headers, its build requirements) or pin a version that has a "
                "wheel for this Python; " + VERBOSE)
    if "conflicting dependencies" in low or ("no solution found" in low
                                             and "incompatible" in low):
        return "the requirements contradict each other: change the pins named above; " + VERBOSE
    if ("no matching distribution" in low or "not found in the" in low
            or "unreachable" in low or "could not find a version" in low):
        return ("fix the requirement's name or version, or the index settings "
                "(PIP_INDEX_URL, PIP_FIND_LINKS); " + VERBOSE)
    return VERBOSE


def resolve(python: Path, args: list[str], cwd: Path) -> list[dict[str, Any]]:
    """What `pip install ARGS` would install into a fresh env: name, version, url, sha256,
    dependencies -- from pip's own resolver (`--dry-run --report`), nothing installed."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with tempfile.TemporaryDirectory(prefix="pyve-pip-") as tmp:
        report = Path(tmp) / "report.json"
        progress.update("resolving the packages to lock")
        proc.run(
            [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--report", report, *args],
            cwd=cwd, env=pip_env(), what="pip (resolving the packages to lock)",
            hint="every installed package must be available from the index to be locked",
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    items = []
    for item in data.get("install", []):
        meta = item["metadata"]
        download = item.get("download_info", {})
        info = download.get("archive_info", {})
        sha256 = info.get("hashes", {}).get("sha256") or _split_hash(info.get("hash", ""))
        if not sha256:
            raise PyveError(f"no sha256 known for {meta['name']}=={meta['version']}",
                            hint="install it from an index or a wheel file")
        deps = {}
        for text in meta.get("requires_dist") or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                deps[canonicalize_name(req.name)] = str(req.specifier)
        items.append({"name": meta["name"], "version": meta["version"],
                      "url": download.get("url", ""), "sha256": sha256, "dependencies": deps})
    return items


def _split_hash(text: str) -> str | None:
    algo, _, value = text.partition("=")
    return value if algo == "sha256" and value else None


# --- the lock's inputs, --frozen, hashes without a second resolve, uv --------------------

INPUTS_PREFIX = "# pyve-inputs: "  # the sources' digests when the env was installed
HASHES_FILE = ".pyve-hashes.json"  # in the env: dies with it, so never outlives what it hashed
_DEV_PACKAGES = {"pip"}  # what `pip freeze` leaves out (plus build tools before Python 3.12)
_OLD_DEV_PACKAGES = {"pip", "setuptools", "distribute", "wheel"}


def inputs_text(root: Path, sources: list[str]) -> str:
    """`requirements.txt:<digest> requirements/test.in:<digest> ...`: per file the install
    reads (the sources and what they include), so a stale lock can name the file that
    changed."""
    from pyve.fingerprint import file_digest
    from pyve.reqfiles import requirement_files

    parts = []
    for name in requirement_files(root, sources):
        path = root / name
        parts.append(f"{name}:{file_digest(path) if path.is_file() else 'missing'}")
    return " ".join(parts) or "(none)"


def changed_inputs(recorded: str, now: str) -> list[str]:
    """The files whose digests differ between two inputs texts (`name:digest ...`)."""
    old = dict(p.split(":", 1) for p in recorded.split() if ":" in p)
    new = dict(p.split(":", 1) for p in now.split() if ":" in p)
    return [name for name in sorted({*old, *new}) if old.get(name) != new.get(name)]


def lock_inputs(lock: Path) -> str | None:
    """The inputs line of a pyve lock (None: no lock, or one written without it)."""
    try:
        with open(lock, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(INPUTS_PREFIX):
                    return line[len(INPUTS_PREFIX):].strip()
                if not line.startswith("#"):
                    break
    except OSError:
        return None
    return None


def check_frozen_lock(root: Path, sources: list[str], lock_name: str = LOCK_FILE) -> None:
    """--frozen: the lock must exist and have been written from the sources as they are now."""
    lock = root / lock_name
    hint = f"run `pyve build` (or `pyve lock`) without --frozen, then commit {lock_name}"
    if not lock.is_file():
        raise PyveError(f"--frozen: {lock_name} is missing", hint=hint)
    recorded = lock_inputs(lock)
    if recorded is None:
        raise PyveError(f"--frozen: {lock_name} does not say what it was locked from", hint=hint)
    now = inputs_text(root, sources)
    if recorded != now:
        changed = changed_inputs(recorded, now)
        raise PyveError(f"--frozen: {lock_name} is stale: {', '.join(changed) or 'sources'} "
                        "changed since it was written", hint=hint)


def installed_distributions(python: Path) -> list[tuple[str, str]]:
    """(name, version) of what `pip freeze --exclude-editable` would list, read in-process."""
    from importlib.metadata import distributions

    from pyve.installers.distinfo import headers

    env = Path(python).parent.parent
    found: dict[str, tuple[str, str]] = {}
    for site in sorted(env.glob("lib/python*/site-packages")):
        minor = site.parent.name.removeprefix("python")
        try:
            old_python = tuple(int(p) for p in minor.split(".")[:2]) < (3, 12)
        except ValueError:
            old_python = False
        skip = _OLD_DEV_PACKAGES if old_python else _DEV_PACKAGES
        for dist in distributions(path=[str(site)]):
            meta = headers(dist)
            name, version = meta["Name"], meta["Version"]
            if not name or canonical_name(name) in skip or _is_editable(dist):
                continue
            found.setdefault(canonical_name(name), (name, version))
    return list(found.values())


def _is_editable(dist: Any) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def canonical_name(name: str) -> str:
    """PEP 503 normalisation (packaging's canonicalize_name, without importing packaging on
    the cold-build path)."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def remember_hashes(python: Path, report: dict[str, Any]) -> None:
    """Keep name==version -> the sha256 of the file pip installed (from its install report),
    in the env: `--frozen` trusts an installed package only when that file is in the lock."""
    found = {}
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        info = item.get("download_info", {}).get("archive_info", {})
        sha256 = info.get("hashes", {}).get("sha256") or _split_hash(info.get("hash", ""))
        if sha256 and meta.get("name") and meta.get("version"):
            found[f"{canonical_name(meta['name'])}=={meta['version']}"] = [sha256]
    record_hashes(python, found)


def record_hashes(python: Path, found: dict[str, list[str]]) -> None:
    """name==version -> the hashes its installed file is known to be one of."""
    path = Path(python).parent.parent / HASHES_FILE
    known = recorded_hashes(python)
    known.update(found)
    atomic_write_text(path, json.dumps(known, indent=0, sort_keys=True) + "\n")


def recorded_hashes(python: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((Path(python).parent.parent / HASHES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    known: dict[str, list[str]] = {}
    for key, value in data.items():  # one string: written by an older pyve
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            known[str(key)] = values
    return known


def _has_pip(python: Path) -> bool:
    env = Path(python).parent.parent
    return any(env.glob("lib/python*/site-packages/pip/__init__.py"))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def index_off() -> bool:
    """PIP_NO_INDEX or UV_NO_INDEX asks for no index: only find-links directories count."""
    return _truthy(os.environ.get("PIP_NO_INDEX")) or _truthy(os.environ.get("UV_NO_INDEX"))


def uv_bin() -> str:
    """The uv executable: on PATH, next to pyve's Python, or from the `uv` package."""
    found = find_uv()
    if found is None:
        raise PyveError("installer is uv, but uv is not installed",
                        hint='install it (pip install uv), or set installer = "pip"')
    return found


def find_uv() -> str | None:
    import shutil
    import sys

    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def uv_env() -> dict[str, str]:
    """uv reads UV_* only: carry pip's index settings over, so both installers see the same
    packages; never let uv download a Python behind our back."""
    env = pip_env()
    for pip_var, uv_var in (("PIP_INDEX_URL", "UV_INDEX_URL"),
                            ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL")):
        if env.get(pip_var) and not env.get(uv_var):
            env[uv_var] = env[pip_var]  # both split a list on spaces
    if env.get("PIP_FIND_LINKS", "").strip() and not env.get("UV_FIND_LINKS"):
        # pip splits its list on whitespace, uv on commas
        env["UV_FIND_LINKS"] = ",".join(env["PIP_FIND_LINKS"].split())
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def uv_index_flags() -> list[str]:
    """uv has no variable for --no-index (it ignores UV_NO_INDEX and PIP_NO_INDEX and would
    query PyPI): pass the flag when either variable asks for it."""
    return ["--no-index"] if index_off() else []
