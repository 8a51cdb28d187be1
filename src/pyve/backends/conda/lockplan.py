"""The conda env's lock and env-file plumbing: the names of environment.yml and
conda-lock.yml, the solve that names the env file in its errors, what a new lock carries over
from the old one (the conda entries of an unchanged definition), a lock-only project's
definition read from the lock, the recorded solution's shape, and the pip entries' URLs (a
find-links file locked under an index's URL). The stages that use them are in backend.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyve import progress
from pyve.backends.conda import lockfile
from pyve.backends.conda.envfile import EnvFile, conda_spec_name
from pyve.backends.detect import damaged_json
from pyve.engines import rattler as engine
from pyve.errors import PyveError
from pyve.installers import pip
from pyve.project import Project
from pyve.redact import without_credentials

ENV_FILE = "environment.yml"
LOCK_FILE = lockfile.LOCK_NAME
DEFINITION_KEY = "pyve_conda_definition"
SOLUTION_WORDS = "the recorded solve"  # .pyve/envs/<hash>.solution.json, in reasons


def _solve(env: EnvFile, platform: str) -> list[Any]:
    """The env file's specs solved for `platform`, its errors naming the env file (the
    channel or spec to fix is there)."""
    return _solve_all(env, [platform])[platform]


def _solve_all(env: EnvFile, platforms: list[str]) -> dict[str, list[Any]]:
    """_solve for several platforms at once (one read of each channel's index)."""
    if not platforms:
        return {}
    progress.update(f"solving {len(env.conda_specs)} specs for {', '.join(platforms)}")
    try:
        return engine.solve_all(env.channels, env.conda_specs, platforms)
    except PyveError as exc:
        raise PyveError(f"{env.path.name}: {exc.message}", hint=exc.hint,
                        exit_code=exc.exit_code) from exc


def _index_urls(items: list[dict[str, Any]], python: Path) -> list[str]:
    """A pip package pip took from a find-links folder is locked under the URL of the same
    file (name and sha256) on an index pip's configuration names, which a teammate can fetch;
    the `name==version` of those no index has (their file:// URL stays)."""
    from pyve.installers import pipconfig, simpleindex, uv

    settings = uv.pip_settings(python)
    folders = [Path(f.removeprefix("file://")).resolve() for f in
               (settings["find-links"].value.split() if "find-links" in settings else [])]

    def in_folder(url: str) -> bool:
        if not url.startswith("file://"):
            return False
        path = Path(url.removeprefix("file://").split("#", 1)[0]).resolve()
        return any(path.is_relative_to(folder) for folder in folders)

    no_index = "no-index" in settings and pipconfig.truthy(settings["no-index"].value)
    indexes = [] if no_index else list(dict.fromkeys([
        settings["index-url"].value.strip() if "index-url" in settings
        else "https://pypi.org/simple",
        *(settings["extra-index-url"].value.split() if "extra-index-url" in settings
          else [])]))
    env = uv.uv_env(python)
    local = []
    for item in items:
        if not in_folder(item["url"]):
            continue
        filename = item["url"].split("#", 1)[0].rsplit("/", 1)[-1]
        name = pip.canonical_name(item["name"])
        found = next((url for index in indexes
                      for file, digest, url in simpleindex.project_files(index, name, env)
                      if file == filename and digest.lower() == item["sha256"]), None)
        if found is None:
            local.append(f"{item['name']}=={item['version']}")
        else:
            item["url"] = found.split("#", 1)[0]
    return local


def _without_none(values: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def _damaged_solution(path: Path) -> str | None:
    """The solution is a list of lock entries; one of the wrong shape means solve again."""
    damaged = damaged_json(path, list, dict, what=SOLUTION_WORDS)
    if damaged or not path.is_file():
        return damaged
    entries = json.loads(path.read_text(encoding="utf-8"))
    if any(lockfile.entry_problem(e) for e in entries):
        return f"{SOLUTION_WORDS} is damaged"
    return None


def _urls(entries: list[dict[str, Any]]) -> list[str]:
    """The entries' URLs, as written (without credentials, also those of an older lock)."""
    return sorted(without_credentials(str(e.get("url"))) for e in entries)


def _sha256s(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{without_credentials(str(e.get('url')))} "
                  f"{(e.get('hash') or {}).get('sha256')}" for e in entries
                  if isinstance(e.get("hash") or {}, dict))


def _pip_file_args(lines: list[str]) -> list[str]:
    args: list[str] = []
    for line in lines:
        args += line.split(maxsplit=1) if line.startswith("-") else [line]
    return args


def _previous_conda_entries(project: Project, definition: str) -> dict[str, list[dict]]:
    """Locked conda entries per platform, when the lock was made from this conda definition."""
    path = project.path(LOCK_FILE)
    if not path.is_file():
        return {}
    try:
        lock = lockfile.read_lock(path)
    except PyveError:
        return {}
    custom = (lock.get("metadata") or {}).get("custom_metadata") or {}
    if custom.get(DEFINITION_KEY) != definition or lockfile.changed_outside(path):
        return {}  # (an entry added by hand is never carried into the new lock)
    result: dict[str, list[dict]] = {}
    for entry in lock.get("package") or []:
        if entry.get("manager") == "conda":
            result.setdefault(entry["platform"], []).append(entry)
    return result


def _with_python(env: EnvFile, request: str | None) -> EnvFile:
    """`pyve init 3.11 --backend micromamba`: the request becomes `python=3.11` unless the
    env file already names python."""
    if not request or any(conda_spec_name(s) == "python" for s in env.conda_specs):
        return env
    from dataclasses import replace

    return replace(env, conda_specs=[f"python={request}", *env.conda_specs])


def _envfile_from_lock(project: Project) -> EnvFile:
    """A lock-only project's definition: the lock's channels and host packages, its pip
    entries as `name @ url#sha256=...` lines (installed with --no-deps, nothing resolved)."""
    lock = lockfile.read_lock(project.path(LOCK_FILE))
    channels = [c["url"] if isinstance(c, dict) else str(c)
                for c in (lock.get("metadata") or {}).get("channels") or []]
    host = engine.host_platform()
    specs = sorted({p["name"] for p in lockfile.lock_packages(lock, host, "conda")})
    return EnvFile(path=project.path(LOCK_FILE), name=project.root.name, channels=channels,
                   conda_specs=specs, pip_specs=lockfile.pip_requirements(lock, host))
