"""Write and read conda-lock.yml (version 1, the unified format conda-lock and micromamba use)."""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pyve import lockseal
from pyve.backends.conda import safeyaml
from pyve.backends.conda.envfile import EnvFile, check_platforms
from pyve.backends.conda.lockspec import content_hash
from pyve.errors import PyveError, UsageError
from pyve.fsutil import atomic_write_text
from pyve.redact import without_credentials

DEFAULT_PLATFORMS = ["linux-64", "osx-arm64", "osx-64", "win-64"]
LOCK_NAME = "conda-lock.yml"


def lock_platforms(envfile: EnvFile, requested: Sequence[str] | None = None) -> list[str]:
    """Platforms to lock: the caller's, else the env file's `platforms:`, else the defaults."""
    if requested:
        try:
            return check_platforms(list(requested), "--platform")
        except PyveError as exc:  # the command line's: exit 2
            raise UsageError(exc.message, exc.hint) from None
    return list(envfile.platforms or DEFAULT_PLATFORMS)


def _split_depend(depend: str) -> tuple[str, str]:
    """'libfoo >=1' -> ('libfoo', '>=1'); 'foo-py' -> ('foo-py', '')."""
    name, _, rest = depend.strip().partition(" ")
    return name, rest.strip()


def _dependencies(depends: Iterable[str]) -> dict[str, str]:
    deps: dict[str, str] = {}
    for depend in depends:
        name, spec = _split_depend(depend)
        # Two constraints on one name (rare) are and-ed, as conda would read them.
        deps[name] = f"{deps[name]},{spec}" if deps.get(name) and spec else spec or deps.get(
            name, "")
    return dict(sorted(deps.items()))


def conda_entry(record: Any, platform: str, category: str = "main") -> dict[str, Any]:
    """One `manager: conda` package entry from a rattler RepoDataRecord."""
    hashes = {}
    if record.md5 is not None:
        hashes["md5"] = record.md5.hex()
    if record.sha256 is not None:
        hashes["sha256"] = record.sha256.hex()
    return {
        "name": record.name.normalized, "version": str(record.version), "manager": "conda",
        "platform": platform, "dependencies": _dependencies(record.depends),
        "url": without_credentials(record.url), "hash": hashes, "category": category,
        "optional": False,
    }


def pip_entry(package: Mapping[str, Any], platform: str, category: str = "main"
              ) -> dict[str, Any]:
    """One `manager: pip` entry from {name, version, url, sha256, dependencies?}."""
    deps = package.get("dependencies") or {}
    if not isinstance(deps, Mapping):
        deps = dict(_split_depend(d) for d in deps)
    return {
        "name": package["name"], "version": str(package["version"]), "manager": "pip",
        "platform": platform, "dependencies": dict(sorted(deps.items())),
        "url": without_credentials(package["url"]), "hash": {"sha256": package["sha256"]},
        "category": category, "optional": False,
    }


def build_lock(envfile: EnvFile, conda_records: Mapping[str, Sequence[Any]],
               pip_packages: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
               lock_dir: Path | None = None) -> dict[str, Any]:
    """The lock document for records solved per platform (platform -> records)."""
    packages = []
    for platform, records in conda_records.items():
        packages += [conda_entry(r, platform, envfile.category) for r in records]
    for platform, pips in (pip_packages or {}).items():
        packages += [pip_entry(p, platform, envfile.category) for p in pips]
    return lock_document(envfile, list(conda_records), packages, lock_dir)


def lock_document(envfile: EnvFile, platforms: Sequence[str], packages: list[dict[str, Any]],
                  lock_dir: Path | None = None, custom: Mapping[str, str] | None = None
                  ) -> dict[str, Any]:
    """The lock document for ready-made package entries (conda and pip)."""
    packages = sorted(packages, key=lambda p: (p["manager"], p["name"], p["platform"]))
    lock_dir = Path(lock_dir) if lock_dir is not None else envfile.path.parent
    source = os.path.relpath(envfile.path.resolve(), lock_dir.resolve())
    metadata: dict[str, Any] = {
        "content_hash": {p: content_hash(envfile, p) for p in platforms},
        "channels": [{"url": without_credentials(c), "used_env_vars": []}
                     for c in envfile.channels],
        "platforms": list(platforms),
        "sources": [Path(source).as_posix()],
    }
    if custom:
        metadata["custom_metadata"] = dict(custom)
    return {"version": 1, "metadata": metadata, "package": packages}


def write_lock(path: Path, envfile: EnvFile, conda_records: Mapping[str, Sequence[Any]],
               pip_packages: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> Path:
    """Write conda-lock.yml atomically (temp file + os.replace); return its path."""
    path = Path(path)
    return write_document(path, build_lock(envfile, conda_records, pip_packages, path.parent))


def write_document(path: Path, document: Mapping[str, Any]) -> Path:
    # Each command works as written (ENV: the env's folder). conda-lock's own default is
    # conda or mamba, else a download: --micromamba uses micromamba (or conda) from PATH.
    header = ("# This lock file was generated by pyve in conda-lock's format (version 1).\n"
              "# Install it with `pyve build`, `micromamba create -p ENV -f conda-lock.yml`\n"
              "# or `conda-lock install --micromamba -p ENV conda-lock.yml`.\n"
              "# Re-lock with `pyve lock`.\n")
    # safe_dump quotes versions like 1.10 and all-digit hashes, so they stay strings. The
    # same dumper in C (libyaml, in PyYAML's wheels) writes the same text ~5x faster: 0.15 s
    # of every conda build that writes a 150-package lock.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # the lock's own digest, in custom_metadata (conda-lock and micromamba read it as a
    # string they keep): an edit made outside pyve is seen where the lock is read
    metadata = dict(document.get("metadata") or {})
    metadata["custom_metadata"] = {**(metadata.get("custom_metadata") or {}),
                                   CONTENT_KEY: lockseal.PLACEHOLDER}
    text = header + yaml.dump({**document, "metadata": metadata}, Dumper=dumper,
                              sort_keys=False, default_flow_style=False)
    atomic_write_text(path, lockseal.seal(text, CONTENT_PREFIX), mode=0o644)
    return path


CONTENT_KEY = "pyve_content"  # custom_metadata: the lock's digest (lockseal.py)
CONTENT_PREFIX = f"{CONTENT_KEY}: "


def changed_outside(path: Path) -> str | None:
    """`conda-lock.yml changed outside pyve` when its text is not what pyve wrote, else None
    (also for a lock without pyve's digest: conda-lock's, or an older pyve's, read as it is;
    a lock that cannot be read says so where it is read)."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if lockseal.state(text, CONTENT_PREFIX) == lockseal.CHANGED:
        return f"{Path(path).name} changed outside pyve"
    return None


@functools.lru_cache(maxsize=4)
def _parsed(text: str) -> Any:
    """One parse per content: a build reads the lock in several stages, and the bounded
    pure-Python loader takes ~0.3 s for a 150-package lock. Keyed by the whole text, so an
    edited lock is parsed again; callers get a copy (`read_lock`)."""
    return safeyaml.load(text)


def read_lock(path: Path) -> dict[str, Any]:
    """Load conda-lock.yml; PyveError for a file that is not a version 1 lock."""
    path = Path(path)
    try:
        data = copy.deepcopy(_parsed(path.read_text(encoding="utf-8")))
    except safeyaml.DocumentTooLarge as exc:
        raise PyveError(f"{path.name}: refused: {exc}", hint="re-create it with `pyve lock`"
                        ) from None
    except OSError as exc:
        raise PyveError(f"{path.name}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise PyveError(f"{path.name}: not UTF-8 text", hint="re-create it with `pyve lock`"
                        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        raise PyveError(f"{where}: invalid YAML in the lock file",
                        hint="re-create it with `pyve lock`") from exc
    if not isinstance(data, dict) or data.get("version") != 1 or "package" not in data:
        raise PyveError(f"{path.name}: not a conda-lock version 1 file",
                        hint="re-create it with `pyve lock`")
    # the shapes every reader relies on (`package: 3` is valid YAML, not a lock)
    packages = data.get("package")
    if not isinstance(data.get("metadata") or {}, dict) or not isinstance(
            packages or [], list) or not all(isinstance(e, dict) for e in packages or []):
        raise PyveError(f"{path.name}: damaged: 'metadata' must be a mapping and 'package' "
                        "a list of entries", hint="re-create it with `pyve lock`")
    problem = _metadata_problem(data.get("metadata") or {})
    if problem:
        raise PyveError(f"{path.name}: damaged: metadata: {problem}",
                        hint="re-create it with `pyve lock`")
    for number, entry in enumerate(packages or [], start=1):
        problem = entry_problem(entry)
        if problem:
            name = entry.get("name")
            which = f"'{name}'" if isinstance(name, str) else f"#{number}"
            raise PyveError(f"{path.name}: damaged: package entry {which}: {problem}",
                            hint="re-create it with `pyve lock`")
    return data


# The fields every reader of an entry relies on, and their types (conda-lock's model).
_ENTRY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "version": (str, int, float), "manager": str, "platform": str, "url": str}


def _metadata_problem(metadata: Mapping[str, Any]) -> str | None:
    hashes = metadata.get("content_hash") or {}
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        return "'content_hash' must map platforms to hashes"
    platforms = metadata.get("platforms") or []
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        return "'platforms' must be a list of platform names"
    channels = metadata.get("channels") or []
    if not isinstance(channels, list) or not all(
            isinstance(c, str) or (isinstance(c, dict) and isinstance(c.get("url"), str))
            for c in channels):
        return "'channels' must be a list of {url: ...} entries"
    if not isinstance(metadata.get("custom_metadata") or {}, dict):
        return "'custom_metadata' must be a mapping"
    return None


def entry_problem(entry: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of one package entry (of a lock or a solution), or None.
    Whether its hash is one to trust is the installer's question, not this one."""
    for key, kind in _ENTRY_FIELDS.items():
        value = entry.get(key)
        if value is None:
            return f"'{key}' is missing"
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"'{key}' must be text, not {type(value).__name__}"
    if entry["manager"] not in ("conda", "pip"):
        return f"manager must be conda or pip, not '{str(entry['manager'])[:20]}'"
    if not isinstance(entry.get("hash") or {}, dict):
        return "'hash' must be a mapping (md5, sha256)"
    if not isinstance(entry.get("dependencies") or {}, dict):
        return "'dependencies' must be a mapping"
    return None


def lock_packages(lock: Mapping[str, Any], platform: str, manager: str | None = None
                  ) -> list[dict[str, Any]]:
    """The package entries of one platform (optionally one manager)."""
    return [p for p in lock.get("package") or []
            if p.get("platform") == platform and (manager is None or p.get("manager") == manager)]


def check_fresh(lock_path: Path, envfile: EnvFile, platforms: Sequence[str] | None = None,
                content: bool = True) -> dict[str, str | None]:
    """platform -> why the lock is stale for it, or None when it is up to date. content: an
    edit made outside pyve counts (--frozen checks it after the entries)."""
    platforms = lock_platforms(envfile, platforms)
    if not Path(lock_path).exists():
        return {p: f"{Path(lock_path).name} does not exist" for p in platforms}
    lock = read_lock(Path(lock_path))
    edited = changed_outside(Path(lock_path)) if content else None
    if edited:
        return dict.fromkeys(platforms, edited)
    hashes = (lock.get("metadata") or {}).get("content_hash") or {}
    result: dict[str, str | None] = {}
    for platform in platforms:
        if platform not in hashes:
            result[platform] = "platform not in the lock"
        elif hashes[platform] != content_hash(envfile, platform):
            result[platform] = f"{envfile.path.name} changed since it was locked"
        elif not lock_packages(lock, platform):
            result[platform] = "no packages locked for the platform"
        else:
            result[platform] = pip_inputs_changed(lock, envfile)
    return result


PIP_INPUTS_KEY = "pyve_pip_inputs"  # custom_metadata: digests of what the pip: section includes


def pip_inputs(envfile: EnvFile) -> str | None:
    """`requirements/dev.txt:<digest> ...` for the files the pip: section pulls in (-r/-c
    includes, local projects): conda-lock's content_hash covers only environment.yml."""
    from pyve.fingerprint import input_digest
    from pyve.reqfiles import files_of_pip_section

    base = envfile.path.parent
    files = files_of_pip_section(base, envfile.pip_specs, base, f"{envfile.path.name} pip: section")
    return " ".join(f"{name}:{input_digest(base / name)}" for name in files) or None


def pip_inputs_changed(lock: Mapping[str, Any], envfile: EnvFile) -> str | None:
    now = pip_inputs(envfile)
    custom = (lock.get("metadata") or {}).get("custom_metadata") or {}
    recorded = custom.get(PIP_INPUTS_KEY) if isinstance(custom, dict) else None
    if now == recorded:
        return None
    from pyve.installers.pip import changed_inputs

    changed = changed_inputs(str(recorded or ""), now or "")
    return f"{', '.join(changed) or 'pip: includes'} changed since it was locked"


def pip_requirements(lock: Mapping[str, Any], platform: str) -> list[str]:
    """`name @ url#sha256=...` lines for `pip install --no-deps` of the locked pip packages."""
    lines = []
    for package in lock_packages(lock, platform, "pip"):
        url = re.sub(r"#.*$", "", package["url"])
        sha = (package.get("hash") or {}).get("sha256")
        lines.append(f"{package['name']} @ {url}" + (f"#sha256={sha}" if sha else ""))
    return lines
