"""`pyve purge`: remove what pyve made -- .venv, .pyve/, its .gitignore lines -- nothing else."""

from __future__ import annotations

import contextlib
import shutil
from argparse import Namespace
from pathlib import Path

from pyve import ui
from pyve.activation import ENVRC, envrc_is_ours
from pyve.locking import project_lock
from pyve.project import STATE_DIR, VENV_DIR, Project, remove_gitignore_lines


def _is_pyve_venv(path: Path) -> bool:
    # Only a real directory holding a venv: never follow a symlink out of the project.
    return path.is_dir() and not path.is_symlink() and (path / "pyvenv.cfg").is_file()


def planned(project: Project) -> list[Path]:
    items = []
    venv = project.root / VENV_DIR
    if _is_pyve_venv(venv):
        items.append(venv)
    state = project.root / STATE_DIR
    if state.is_dir() and not state.is_symlink():
        items.append(state)
    return items


def unused_envs(project: Project, args: Namespace) -> list[Path]:
    """Conda envs under .pyve/envs/ other than the one the current definition points at."""
    envs = project.root / ".pyve" / "envs"
    if not envs.is_dir():
        return []
    from pyve.commands.common import load_backend, make_decision

    decision = make_decision(project, args, interactive=False)
    keep = ""
    if decision.backend == "micromamba":
        keep = load_backend("micromamba").env_dir(project, decision).name
    return sorted(p for p in envs.iterdir() if p.name.split(".")[0] != keep)


def purge_unused(project: Project, args: Namespace) -> int:
    with project_lock(project.state_dir):
        items = unused_envs(project, args)
        for item in items:
            if args.dry_run:
                ui.info(f"would remove {item.relative_to(project.root)}")
            elif item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()
    if not args.dry_run:
        envs = [i for i in items if i.is_dir() or not i.name.endswith(".json")]
        ui.info(f"Removed {len(envs)} unused environment(s) under .pyve/envs/.")
    return 0


def run(args: Namespace) -> int:
    project = Project.load()
    if getattr(args, "unused", False):
        return purge_unused(project, args)
    items = planned(project)
    if getattr(args, "dry_run", False):
        for item in items:
            ui.info(f"would remove {item.name}/")
        if envrc_is_ours(project.root):
            ui.info(f"would remove {ENVRC} (written by pyve, unchanged)")
        ui.say("would remove pyve's lines from .gitignore" if _has_gitignore_block(project)
               else "nothing else to remove")
        return 0
    removed: list[str] = []
    with project_lock(project.state_dir):
        # Again under the lock (a concurrent purge may have removed some), but never what only
        # taking the lock made (.pyve/ of a project pyve had not touched).
        items = [item for item in planned(project) if item in items]
        venv = project.root / VENV_DIR
        if venv in items:
            shutil.rmtree(venv)
            removed.append(f"{VENV_DIR}/")
        if envrc_is_ours(project.root):  # an edited .envrc is the user's: kept
            (project.root / ENVRC).unlink()
            removed.append(ENVRC)
        lines = remove_gitignore_lines(project.root)
        if lines:
            removed.append(f".gitignore lines ({', '.join(lines)})")
        # .pyve/ last: it holds the lock we are holding.
        state = project.root / STATE_DIR
        if state in items:
            for child in state.iterdir():
                if child.name != "lock":
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            # Remove the lock file and .pyve/ while still holding the lock: a process waiting
            # for it then finds its lock file unlinked and starts over with a fresh one
            # (locking._acquire). Removing .pyve/ after releasing the lock would delete the
            # state of a build that had just started in it.
            (state / "lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # a waiter already made a new lock: keep it
                state.rmdir()
    if state in items:
        removed.append(f"{STATE_DIR}/")
    if removed:
        ui.info("Removed: " + ", ".join(removed))
    else:
        ui.say("Nothing to remove: no environment made by pyve here.")
    ui.say("Kept pyve.toml, lock files and all your files.")
    return 0


def _has_gitignore_block(project: Project) -> bool:
    from pyve.project import GITIGNORE_MARK

    path = project.root / ".gitignore"
    return path.is_file() and GITIGNORE_MARK in path.read_text(encoding="utf-8").splitlines()
