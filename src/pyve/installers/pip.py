"""pip stages shared by both backends: install a project's pip dependencies, and write the
hashed, pinned requirements lock. Always `<env python> -m pip`, never a bare `pip`."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
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
    from pyve.offline import is_offline

    if is_offline():  # find-links only: pip has no cache-only mode
        env["PIP_NO_INDEX"] = "1"
    return env


def install(python: Path, args: list[str], cwd: Path, what: str, *,
            record_hashes: bool = False) -> None:
    """`python -m pip install ARGS`; a failure says what in pip's output explains it, with a
    hint that fits that failure. record_hashes: keep the sha256 of each file pip installed
    (in the env), so `--frozen` can tell whether an installed package came from a file the
    lock lists."""
    if not args:
        return
    feed = InstallerActivity(progress.update)  # their output lines -> the live line
    try:
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
            except (OSError, ValueError, RecursionError):
                return  # no report: --frozen checks these packages' files again
    except PyveError as exc:
        if exc.hint is None:
            exc.hint = failure_hint(exc.message, exc.output)
        raise
    remember_hashes(python, data)


class PipInstaller:
    """`python -m pip` of the env itself: pip's resolver, pip's configuration as it is."""

    name = "pip"

    def environ(self, python: Path | None = None) -> dict[str, str]:
        return pip_env()

    def make_venv(self, python_path: str, version: str, env: Path, cwd: Path) -> None:
        wheel = bundled_pip_wheel(python_path, version)
        proc.run([python_path, "-m", "venv", *(["--without-pip"] if wheel else []), env],
                 cwd=cwd, what=f"python {version} -m venv")
        if wheel:
            progress.update("putting pip into the venv")
            seed_pip(env, wheel, version)

    def prepare(self, env: Path, python_path: str, version: str) -> None:
        """A venv made by an older pyve for uv has no pip: seed it before pip runs there."""
        if has_pip(env):
            return
        wheel = bundled_pip_wheel(python_path, version)
        if wheel is None:
            raise PyveError("the environment has no pip and no bundled pip wheel was found",
                            hint='set installer = "uv", or `pyve build --force`')
        seed_pip(env, wheel, version)

    def install(self, python: Path, args: list[str], cwd: Path, what: str, *,
                record_hashes: bool = False, local: Iterable[str | None] = ()) -> None:
        # (local: pip keeps no cache of a local project's metadata; it builds it every time)
        install(python, args, cwd, what, record_hashes=record_hashes)

    def reinstall(self, python: Path, requirements: list[str], cwd: Path, what: str) -> None:
        install(python, ["--no-deps", "--force-reinstall", *requirements], cwd, what)

    def repair(self, python: Path, pins: dict[str, str], cwd: Path) -> None:
        install(python, ["--no-deps", "--force-reinstall",
                         *(f"{n}=={v}" for n, v in sorted(pins.items()))],
                cwd, f"pip install --force-reinstall {' '.join(sorted(pins))}")

    def install_locked(self, python: Path, requirements: Path, cwd: Path, what: str,
                       hashes: dict[str, list[str]], replace: tuple[str, ...] = (),
                       reread: bool = False) -> None:
        # pip's install report names the one file installed: that hash is remembered (pip
        # reads every file from its source each time: `reread` holds already)
        install(python, ["--require-hashes", "--no-deps", "--force-reinstall", "-r",
                         str(requirements)], cwd, what, record_hashes=True)

    def would_install(self, python: Path, args: list[str], cwd: Path) -> dict[str, str]:
        return would_install(python, args, cwd)

    def uninstall(self, python: Path, names: list[str], cwd: Path) -> None:
        proc.run([python, "-m", "pip", "uninstall", "--yes", *names], cwd=cwd,
                 env=pip_env(), what="pip uninstall")


PIP = PipInstaller()


def bundled_pip_wheel(python: str, version: str) -> Path | None:
    """The pip wheel that ships with the interpreter (what ensurepip would install)."""
    minor = ".".join(version.split(".")[:2])
    base = Path(os.path.realpath(python)).parent.parent
    wheels = sorted((base / "lib" / f"python{minor}" / "ensurepip" / "_bundled").glob("pip-*.whl"))
    return wheels[-1] if wheels else None


def seed_pip(env: Path, wheel: Path, version: str) -> None:
    """Unpack pip into the venv with `installer`: the same files ensurepip puts there, about
    ten times faster, because ensurepip starts a pip process to install pip."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    minor = ".".join(version.split(".")[:2])
    site = str(env / "lib" / f"python{minor}" / "site-packages")
    destination = SchemeDictionaryDestination(
        {"purelib": site, "platlib": site, "headers": str(env / "include"),
         "scripts": str(env / "bin"), "data": str(env)},
        interpreter=str(env / "bin" / "python"), script_kind="posix",
        bytecode_optimization_levels=(),
    )
    with WheelFile.open(wheel) as source:
        install(source, destination, {"INSTALLER": b"pyve"})


def has_pip(env: Path) -> bool:
    return any(env.glob("lib/python*/site-packages/pip/__init__.py"))


VERBOSE = "re-run with -v (`pyve -v build`) for the installer's full output"


# What a failed download or clone says (git, curl, cargo fetching crates, pip, uv): a network
# problem, even when it happens while a package builds.
_NETWORK = ("could not resolve host", "couldn't resolve host", "unable to access '",
            "failed to connect to", "connection refused", "network is unreachable",
            "temporary failure in name resolution", "name or service not known",
            "connection timed out", "operation timed out", "failed to download",
            "unable to update registry", "spurious network error")


def is_hash_mismatch(message: str) -> bool:
    low = message.lower()
    return "hash mismatch" in low or "do not match the hashes" in low


def failure_hint(message: str, output: str = "") -> str:
    """What to do, for the kind of failure the message shows (and the installer's whole
    output, where a clone's or a download's own error line is: pip ends with its own)."""
    low = message.lower()
    if is_hash_mismatch(message):
        return ("the file differs from the locked one: re-lock (`pyve build` without --frozen) "
                "only if you trust the new file; " + VERBOSE)
    if any(words in f"{low}\n{output.lower()}" for words in _NETWORK):
        return ("a download or clone could not reach its server (a git repository, an index, "
                "crates.io for a Rust build): check the network, the proxy (HTTPS_PROXY) and "
                "the URL, then run the build again; " + VERBOSE)
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
CONTENT_PREFIX = "# pyve-content: "  # the lock's own digest (lockseal.py)
HASHES_FILE = ".pyve-hashes.json"  # in the env: dies with it, so never outlives what it hashed
_DEV_PACKAGES = {"pip"}  # what `pip freeze` leaves out (plus build tools before Python 3.12)
_OLD_DEV_PACKAGES = {"pip", "setuptools", "distribute", "wheel"}


def inputs_text(root: Path, sources: list[str]) -> str:
    """`requirements.txt:<digest> requirements/test.in:<digest> ...`: per file the install
    reads (the sources and what they include), so a stale lock can name the file that
    changed."""
    from pyve.fingerprint import data_digest, input_digest
    from pyve.reqfiles import scan

    inputs = scan(root, sources)

    def digest(name: str) -> str:
        path = root / name
        return input_digest(path) if path.is_file() else "missing"

    in_trees = {name for files in inputs.trees.values() for name in files}
    parts = [f"{name}:{digest(name)}" for name in inputs.files if name not in in_trees]
    # a local project built from its sources: one entry for all of them (`lib/:<digest>`)
    parts += [f"{folder.rstrip('/')}/:{data_digest({f: digest(f) for f in files})}"
              for folder, files in inputs.trees.items()]
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
    except (OSError, UnicodeDecodeError):  # not pyve's writing (see read_lock for the error)
        return None
    return None


def check_frozen_lock(root: Path, sources: list[str], lock_name: str = LOCK_FILE) -> None:
    """--frozen: the lock must exist and have been written from the sources as they are now."""
    lock = root / lock_name
    hint = f"run `pyve build` (or `pyve lock`) without --frozen, then commit {lock_name}"
    if not lock.is_file():
        raise PyveError(f"--frozen: {lock_name} is missing", hint=hint)
    try:
        lock.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:  # its bytes stay out of the line: they may be anything
        raise PyveError(f"--frozen: {lock_name}: not UTF-8 text (byte {exc.start + 1} cannot "
                        "be read)", hint=hint) from None
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
    except (ValueError, RecursionError):
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
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    known: dict[str, list[str]] = {}
    for key, value in data.items():  # one string: written by an older pyve
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            known[str(key)] = values
    return known


def would_install(python: Path, args: list[str], cwd: Path) -> dict[str, str]:
    """What `pip install ARGS` would install or change in the env of `python`, nothing
    installed (`--dry-run --report`): canonical name -> version. A requirement pip cannot
    resolve fails here, with the hint an install failure gets."""
    if not args:
        return {}
    with tempfile.TemporaryDirectory(prefix="pyve-pip-") as tmp:
        report = Path(tmp) / "report.json"
        progress.update("resolving the requirements (pip install --dry-run)")
        try:
            proc.run([python, "-m", "pip", "install", "--dry-run", "--no-input", "--quiet",
                      "--report", report, *args], cwd=cwd, env=pip_env(),
                     what="pip install --dry-run")
        except PyveError as exc:
            if exc.hint is None:
                exc.hint = failure_hint(exc.message)
            raise
        data = json.loads(report.read_text(encoding="utf-8"))
    return {canonical_name(item["metadata"]["name"]): str(item["metadata"]["version"])
            for item in data.get("install", [])}
