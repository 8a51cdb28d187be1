"""pip stages shared by both backends: install a project's pip dependencies, and write the
hashed, pinned requirements lock. Always `<env python> -m pip`, never a bare `pip`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pyve import proc
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text

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
    names the package and pip's last error line. record_hashes: keep the sha256 pip reports
    for what it installed (in the env), so the lock stage need not resolve them again."""
    if not args:
        return
    hint = ("fix the requirement or the index settings (PIP_INDEX_URL, PIP_FIND_LINKS), "
            "then run `pyve build`")
    if installer == "uv":
        proc.run([uv_bin(), "pip", "install", *uv_index_flags(), "--python", python, *args],
                 cwd=cwd, env=uv_env(), what=what.replace("pip", "uv pip", 1), hint=hint)
        return
    if not record_hashes:
        proc.run([python, "-m", "pip", "install", "--no-input", *args], cwd=cwd, env=pip_env(),
                 what=what, hint=hint)
        return
    with tempfile.TemporaryDirectory(prefix="pyve-pip-") as tmp:
        report = Path(tmp) / "report.json"
        proc.run([python, "-m", "pip", "install", "--no-input", "--report", report, *args],
                 cwd=cwd, env=pip_env(), what=what, hint=hint)
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # no report: the lock stage resolves the hashes itself
    remember_hashes(python, data)


def write_lock(python: Path, root: Path, lock_name: str = LOCK_FILE, *,
               inputs: str | None = None, installer: str = "pip") -> Path:
    """Pin every installed distribution with the sha256 of the file pip would install,
    in a file `pip install --require-hashes -r` accepts. Same env -> same bytes.
    inputs: digest of the sources the env was installed from (`--frozen` compares it)."""
    lock = root / lock_name
    if lock.exists() and not lock.read_text(encoding="utf-8").startswith(LOCK_HEADER):
        raise PyveError(
            f"{lock_name} exists and was not written by pyve; refusing to overwrite it",
            hint=f"rename or delete {lock_name} if pyve may own it",
        )
    # Read the env's metadata in-process (what `pip freeze --exclude-editable` lists) and
    # take the hashes pip reported when it installed them: no pip process in the common case.
    installed = installed_distributions(python)
    entries = locked_hashes(python, root, installed, installer)
    lines = [LOCK_HEADER, "# Install with: pip install --require-hashes -r " + lock_name]
    if inputs:
        lines.append(INPUTS_PREFIX + inputs)
    for name in sorted(entries, key=str.lower):
        version, hashes = entries[name]
        lines.append(f"{name}=={version}" + "".join(
            f" \\\n    --hash=sha256:{h}" for h in sorted(hashes)))
    atomic_write_text(lock, "\n".join(lines) + "\n")
    return lock


def _hashes(python: Path, root: Path, pins: list[str]) -> dict[str, tuple[str, str]]:
    """Resolve the exact pins again without installing (pip's report carries sha256 of
    every archive, computed by pip for local files too)."""
    with tempfile.TemporaryDirectory(prefix="pyve-lock-") as tmp:
        pin_file = Path(tmp) / "pins.txt"
        pin_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
        items = resolve(python, ["--no-deps", "-r", str(pin_file)], root)
    return {item["name"]: (item["version"], item["sha256"]) for item in items}


def resolve(python: Path, args: list[str], cwd: Path) -> list[dict[str, Any]]:
    """What `pip install ARGS` would install into a fresh env: name, version, url, sha256,
    dependencies -- from pip's own resolver (`--dry-run --report`), nothing installed."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with tempfile.TemporaryDirectory(prefix="pyve-pip-") as tmp:
        report = Path(tmp) / "report.json"
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
        old = dict(p.split(":", 1) for p in recorded.split() if ":" in p)
        new = dict(p.split(":", 1) for p in now.split() if ":" in p)
        changed = [s for s in sorted({*old, *new}) if old.get(s) != new.get(s)]
        raise PyveError(f"--frozen: {lock_name} is stale: {', '.join(changed) or 'sources'} "
                        "changed since it was written", hint=hint)


def install_frozen(python: Path, root: Path, sources: list[str], installer: str = "pip",
                   lock_name: str = LOCK_FILE) -> None:
    """Install exactly the lock (hashes checked, no resolver), then the project itself."""
    lock = root / lock_name
    if any(not line.startswith("#") and line.strip()
           for line in lock.read_text(encoding="utf-8").splitlines()):
        install(python, ["--require-hashes", "--no-deps", "-r", lock_name], root,
                f"pip install from {lock_name}", installer=installer)
    if "pyproject.toml" in sources:  # the lock leaves editables out: the project itself
        install(python, ["--no-deps", "-e", "."], root, "pip install -e .", installer=installer)


def installed_distributions(python: Path) -> list[tuple[str, str]]:
    """(name, version) of what `pip freeze --exclude-editable` would list, read in-process."""
    from importlib.metadata import distributions

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
            name, version = dist.metadata["Name"], dist.version
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
    """Keep name==version -> sha256 from pip's install report, in the env."""
    path = Path(python).parent.parent / HASHES_FILE
    known = _load_hashes(path)
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        info = item.get("download_info", {}).get("archive_info", {})
        sha256 = info.get("hashes", {}).get("sha256") or _split_hash(info.get("hash", ""))
        if sha256 and meta.get("name") and meta.get("version"):
            known[f"{canonical_name(meta['name'])}=={meta['version']}"] = sha256
    atomic_write_text(path, json.dumps(known, indent=0, sort_keys=True) + "\n")


def _load_hashes(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def locked_hashes(python: Path, root: Path, installed: list[tuple[str, str]],
                  installer: str = "pip") -> dict[str, tuple[str, list[str]]]:
    """sha256 for every installed distribution: the install's own report first, then the
    local wheel directories (offline only), then a resolve of just the missing pins."""
    known = _load_hashes(Path(python).parent.parent / HASHES_FILE)
    entries: dict[str, tuple[str, list[str]]] = {}
    missing: list[tuple[str, str]] = []
    for name, version in installed:
        sha256 = known.get(f"{canonical_name(name)}=={version}")
        if sha256:
            entries[name] = (version, [sha256])
        else:
            missing.append((name, version))
    if missing:
        local = _find_links_hashes(missing)
        for name, version in missing:
            if local.get(name):
                entries[name] = (version, local[name])
        missing = [(n, v) for n, v in missing if n not in entries]
    if missing:
        pins = [f"{n}=={v}" for n, v in missing]
        if _has_pip(python):
            resolved = _hashes(python, root, pins)
        elif installer == "uv":
            resolved = _uv_hashes(python, root, pins)
        else:
            resolved = {}
        by_name = {canonical_name(n): value for n, value in resolved.items()}
        for name, version in missing:
            found = by_name.get(canonical_name(name))
            if not found:
                raise PyveError(f"no sha256 known for {name}=={version}",
                                hint="install it from an index or a wheel file")
            entries[name] = (found[0], [found[1]])
    return entries


def _has_pip(python: Path) -> bool:
    env = Path(python).parent.parent
    return any(env.glob("lib/python*/site-packages/pip/__init__.py"))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def index_off() -> bool:
    """PIP_NO_INDEX or UV_NO_INDEX asks for no index: only find-links directories count."""
    return _truthy(os.environ.get("PIP_NO_INDEX")) or _truthy(os.environ.get("UV_NO_INDEX"))


def _find_links_hashes(pins: list[tuple[str, str]]) -> dict[str, list[str]]:
    """With the index off, pip and uv can only pick files from the find-links directories:
    the sha256 of every file there for name==version covers whichever one was picked."""
    if not index_off():
        return {}
    dirs = []
    for var in ("PIP_FIND_LINKS", "UV_FIND_LINKS"):
        for entry in os.environ.get(var, "").replace(",", " ").split():
            path = Path(entry.removeprefix("file://"))
            if path.is_dir() and path not in dirs:  # pip's and uv's variables often agree
                dirs.append(path)
    if not dirs:
        return {}
    import hashlib

    wanted = {(canonical_name(n), v): n for n, v in pins}
    # A wheelhouse can hold thousands of files: look closely only at the wanted names.
    prefixes = tuple({name.replace("-", sep) for name, _ in wanted for sep in "-_."})
    found: dict[str, list[str]] = {}
    for directory in dirs:
        for file in directory.iterdir():
            if not file.name.lower().startswith(prefixes):
                continue
            key = _archive_key(file.name)
            if key in wanted:
                digest = hashlib.sha256(file.read_bytes()).hexdigest()
                found.setdefault(wanted[key], []).append(digest)
    return found


def _archive_key(filename: str) -> tuple[str, str] | None:
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (canonical_name(parts[0]), parts[1]) if len(parts) >= 5 else None
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            name, _, version = filename[: -len(ext)].rpartition("-")
            return (canonical_name(name), version) if name else None
    return None


def _uv_hashes(python: Path, root: Path, pins: list[str]) -> dict[str, tuple[str, str]]:
    """uv has no install report: ask its resolver for the hashes of the exact pins."""
    with tempfile.TemporaryDirectory(prefix="pyve-lock-") as tmp:
        pin_file = Path(tmp) / "pins.txt"
        pin_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
        out = proc.run([uv_bin(), "pip", "compile", *uv_index_flags(), "--quiet", "--no-deps",
                        "--generate-hashes", "--no-header", "--no-annotate",
                        "--python", python, pin_file],
                       cwd=root, env=uv_env(), what="uv pip compile (hashes for the lock)")
    entries: dict[str, tuple[str, str]] = {}
    current: tuple[str, str] | None = None
    for line in out.splitlines():
        line = line.strip().rstrip("\\").strip()
        if "==" in line and not line.startswith("--"):
            name, _, version = line.partition("==")
            current = (name.strip(), version.split()[0])
        elif line.startswith("--hash=sha256:") and current and current[0] not in entries:
            entries[current[0]] = (current[1], line.split(":", 1)[1])
    return entries


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
                            ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
                            ("PIP_FIND_LINKS", "UV_FIND_LINKS")):
        if env.get(pip_var) and not env.get(uv_var):
            env[uv_var] = env[pip_var]
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def uv_index_flags() -> list[str]:
    """uv has no variable for --no-index (it ignores UV_NO_INDEX and PIP_NO_INDEX and would
    query PyPI): pass the flag when either variable asks for it."""
    return ["--no-index"] if index_off() else []
