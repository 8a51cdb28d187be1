"""The build's use of the remote cache (remotecache/): before the env is made, look its key up
and restore it; after a build that made it, push it. Never worse than no cache: whatever the
store or the download does wrong is one line, and the build goes on locally."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyve import ui
from pyve.backends.base import Backend, Stage
from pyve.decision import Decision
from pyve.errors import PyveError
from pyve.graph import env_fingerprint, export_records, fingerprints, import_records
from pyve.project import Project


@dataclass
class Restored:
    url: str
    seconds: float
    stages: list[str]


def env_key(project: Project, decision: Decision,
            stages: list[Stage]) -> tuple[str, dict[str, Any]]:
    from pyve.remotecache.key import env_key as make_key

    return make_key(env_fingerprint(fingerprints(project, stages)), decision.backend,
                    decision.python_path, decision.python_version)


@contextmanager
def _work(project: Project) -> Iterator[Path]:
    """A folder for an entry's files, inside .pyve/ (the project's disk), removed after."""
    where = project.state_dir / f"remote-{uuid.uuid4().hex[:8]}"
    where.mkdir(parents=True)
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _open(url: str) -> Any:
    from pyve.remotecache import TIMEOUT
    from pyve.remotecache.open import open_store

    return open_store(url, timeout=TIMEOUT)


def pull(project: Project, decision: Decision, backend: Backend, stages: list[Stage],
         url: str, *, quiet_miss: bool = True) -> Restored | None:
    """Restore the env from the remote cache into its place, which must be empty; None on a
    miss or any failure (said in one line)."""
    from pyve.remotecache import artifact
    from pyve.remotecache.store import StoreError

    env = backend.env_dir(project, decision)
    if env.exists() or env.is_symlink():
        return None  # only into an empty place: never over an env (or a user's folder)
    started = time.perf_counter()
    try:
        store = _open(url)
    except StoreError as exc:  # an unknown scheme, a missing extra
        ui.info(f"remote cache: {exc}; building locally")
        return None
    shown = store.url
    try:
        key, _facts = env_key(project, decision, stages)
        with _work(project) as work:
            files = store.get(key, work)
            if files is None:
                if not quiet_miss:
                    ui.info(f"remote cache {shown}: no entry for {key}")
                return None
            artifact.verify(key, files)
            records = artifact.records(files)
            artifact.unpack(files, env)
        try:
            moves = [(str(records["env"]), str(env)), (str(records["root"]), str(project.root))]
            links = records.get("left_out") or {}
            backend.relocate(project, decision, moves,
                             dict(links) if isinstance(links, dict) else {})
            import_records(project, records["records"])
        except (PyveError, OSError, KeyError, ValueError, TypeError) as exc:
            shutil.rmtree(env, ignore_errors=True)  # made by this pull, a moment ago
            raise artifact.ArtifactError(str(exc)) from None
    except StoreError as exc:
        ui.info(f"remote cache unreachable: {exc}; building locally")
        return None
    except artifact.ArtifactError as exc:
        ui.info(f"remote cache entry refused: {exc}; building locally")
        return None
    names = list(records["records"].get("state", {}))
    return Restored(shown, time.perf_counter() - started, names)


def push(project: Project, decision: Decision, backend: Backend, stages: list[Stage],
         url: str) -> bool:
    """Upload the built env as its key's entry; a failure is one line, never the build's."""
    from pyve.remotecache import artifact
    from pyve.remotecache.store import StoreError

    kept = backend.by_hand(project, decision)
    if kept:
        ui.info(f"remote cache: not pushed: the env holds packages installed by hand "
                f"({', '.join(sorted(kept)[:5])})")
        return False
    env = backend.env_dir(project, decision)
    try:
        store = _open(url)
    except StoreError as exc:
        ui.info(f"remote cache: {exc}; not pushed")
        return False
    try:
        key, facts = env_key(project, decision, stages)
        with _work(project) as work:
            files = artifact.pack(env, key, {
                "records": export_records(project, stages), "env": str(env),
                "root": str(project.root), "backend": decision.backend, "key_facts": facts},
                work)
            store.put(key, files)
            size = files[artifact.ENV_PART].stat().st_size
    except StoreError as exc:
        ui.info(f"remote cache unreachable: {exc}; not pushed")
        return False
    except OSError as exc:
        ui.info(f"remote cache: not pushed: {exc}")
        return False
    ui.info(f"pushed the env to the remote cache {store.url} ({key}, {size / 1e6:.1f} MB)")
    return True
