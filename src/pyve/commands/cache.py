"""`pyve cache clean|info|push|pull`: the shared conda package cache (micromamba's `clean
--all`), emptied only where pyve marked it as its own (engines/pkgcache.py); and the remote
cache (remotecache/): what is stored for this project, and a push or pull by hand."""

from __future__ import annotations

import os
from argparse import Namespace

from pyve import ui
from pyve.engines.pkgcache import disk_usage
from pyve.errors import EXIT_FAILURE, PyveError
from pyve.ui import human


def run(args: Namespace) -> int:
    from pyve.engines import pkgcache

    if args.action in ("push", "pull"):
        return _remote(args)
    cache = pkgcache.default_cache_dir()
    if args.action == "info":
        size = human(disk_usage(cache)) if cache.exists() else "empty"
        ui.info(f"package cache: {cache} ({size})")
        _remote_info(args)
        return 0
    freed = pkgcache.clean(cache)
    ui.info(f"Emptied the package cache {cache}: freed {human(freed)}.")
    return 0


def _in_project() -> bool:
    """Work in the project's folder (`cache` is a command that starts where it stands)."""
    from pyve import projectroot

    root = projectroot.find(os.getcwd())
    if root is None:
        return False
    os.chdir(root)
    return True


def _remote_info(args: Namespace) -> None:
    from pyve import remotecache
    from pyve.commands.common import load_backend, make_decision
    from pyve.commands.remote import env_key
    from pyve.project import Project
    from pyve.remotecache.open import open_store
    from pyve.remotecache.store import StoreError

    in_project = _in_project()
    project = Project.load()
    cache = remotecache.settings(project.config)
    if cache is None:
        ui.info("remote cache: none (remote_cache in pyve.toml, or PYVE_REMOTE_CACHE)")
        return
    try:
        store = open_store(cache.url, timeout=remotecache.TIMEOUT)
        ui.info(f"remote cache: {store.url} (push {'on' if cache.push else 'off'})")
        keys = store.keys()
    except StoreError as exc:
        ui.info(f"remote cache unreachable: {exc}")
        return
    ui.info(f"  {len(keys)} entries stored")
    if in_project:
        decision = make_decision(project, args, interactive=False, may_install=False)
        stages = load_backend(decision.backend).stages(project, decision)
        key, facts = env_key(project, decision, stages)
        python = facts["python"]
        ui.info(f"  this project: key {key} ({'stored' if key in keys else 'not stored'}); "
                f"{decision.backend}, {facts['platform']}, python {python.get('version')} "
                f"{python.get('soabi') or ''}, libc {' '.join(python.get('libc') or [])}")


def _remote(args: Namespace) -> int:
    from pyve import remotecache
    from pyve.commands import remote
    from pyve.commands.common import load_backend, make_decision
    from pyve.graph import plan
    from pyve.locking import project_lock
    from pyve.project import Project

    if not _in_project():
        raise PyveError(f"no project in {os.getcwd()} or above",
                        hint="run it in the project's folder (or `pyve -C DIR cache ...`)")
    project = Project.load()
    cache = remotecache.settings(project.config)
    if cache is None:
        raise PyveError("no remote cache to " + args.action,
                        hint="set remote_cache = \"s3://bucket/prefix\" in pyve.toml, or "
                             "PYVE_REMOTE_CACHE")
    with project_lock(project.state_dir):
        decision = make_decision(project, args, interactive=False)
        backend = load_backend(decision.backend)
        stages = backend.stages(project, decision)
        if args.action == "push":
            stale = [r.name for r in plan(project, stages) if r.status != "up to date"]
            if stale or not backend.is_built(project, decision):
                raise PyveError("the environment is not built as its files say "
                                f"(stale: {', '.join(stale) or 'all'}): nothing pushed",
                                hint="run `pyve build` first")
            return 0 if remote.push(project, decision, backend, stages, cache.url) \
                else EXIT_FAILURE
        env = backend.env_dir(project, decision)
        if env.exists():
            ui.info(f"the environment {env} is there already: nothing pulled "
                    "(`pyve build` brings it up to date)")
            return 0
        restored = remote.pull(project, decision, backend, stages, cache.url,
                               quiet_miss=False)
        if restored is None:
            return EXIT_FAILURE
        ui.info(f"restored {', '.join(restored.stages)} from the remote cache "
                f"{restored.url} in {restored.seconds:.1f}s")
        return 0
