"""`pyve purge`: remove what pyve made -- .venv, .pyve/, its .gitignore lines -- nothing else.

Nothing is removed through a symlink: a symlinked .pyve or .pyve/envs is unlinked (the link,
not what it points at). A .venv pyve did not make (no pyve marker; a symlink) is kept and
named in one line."""

from __future__ import annotations

import contextlib
from argparse import Namespace
from pathlib import Path

from pyve import ui
from pyve.activation import ENVRC, envrc_is_ours
from pyve.fsutil import OLD_MARK, discard, leftovers, remove
from pyve.locking import project_lock
from pyve.project import (
    STATE_DIR,
    VENV_DIR,
    Project,
    git_tracks,
    gitignore_has_block,
    gitignore_problem,
    remove_gitignore_lines,
)

ENVS_DIR = f"{STATE_DIR}/envs"


def planned(project: Project) -> list[Path]:
    """Every backend's environments pyve made (each backend knows its own marker), what a
    killed removal of an old .venv left, and .pyve/ (which holds the conda envs)."""
    from pyve.backends import all_backends

    state = project.root / STATE_DIR
    items = [env for backend in all_backends() for env in backend.leftovers(project)
             if not env.is_relative_to(state)]
    items += leftovers(project.root / VENV_DIR)
    if state.is_dir() or state.is_symlink():
        items.append(state)
    return items


def envrc_removable(project: Project) -> bool:
    """.envrc as pyve wrote it, and not a committed file: a teammate's .envrc that reads as
    pyve's template is theirs (git tracks it), never removed."""
    return envrc_is_ours(project.root) and not git_tracks(project.root, ENVRC)


def foreign_envs(project: Project) -> list[str]:
    """The lines that say an environment in pyve's place is kept: pyve did not make it."""
    from pyve.backends import all_backends

    return [line for backend in all_backends() if (line := backend.foreign_env(project))]


def unused_envs(project: Project, args: Namespace) -> list[Path]:
    """Conda envs under .pyve/envs/ other than the one the current definition points at."""
    envs = project.root / ENVS_DIR
    if not envs.is_dir() or _linked_envs(project):
        return []
    from pyve.commands.common import load_backend, make_decision

    decision = make_decision(project, args, interactive=False, may_install=False)
    keep = load_backend(decision.backend).env_dir(project, decision).name  # .venv: none here
    # `<hash>.pyve-old-<id>`: what a killed removal left; never the env in use
    return sorted(p for p in envs.iterdir()
                  if p.name.split(".")[0] != keep or OLD_MARK in p.name)


def _linked_envs(project: Project) -> bool:
    return (project.root / STATE_DIR).is_symlink() or (project.root / ENVS_DIR).is_symlink()


def purge_unused(project: Project, args: Namespace) -> int:
    if _linked_envs(project):
        ui.info(f"{ENVS_DIR} is reached through a symlink: purge --unused removes nothing "
                "through it (`pyve purge` removes the link itself).")
        return 0
    with project_lock(project.state_dir):
        items = unused_envs(project, args)
        for item in items:
            if args.dry_run:
                ui.info(f"would remove {item.relative_to(project.root)}")
            else:
                discard(item)
    if not args.dry_run:
        envs = [i for i in items if not i.name.endswith(".json")]
        ui.info(f"Removed {len(envs)} unused environment(s) under {ENVS_DIR}/.")
    return 0


def run(args: Namespace) -> int:
    project = Project.load()
    if getattr(args, "unused", False):
        return purge_unused(project, args)
    items = planned(project)
    kept = foreign_envs(project)
    if getattr(args, "dry_run", False):
        for item in items:
            ui.info(f"would remove {item.name}" + ("" if item.is_symlink() else "/")
                    + (" (a symlink: the link only)" if item.is_symlink() else ""))
        for line in kept:
            ui.info(line.replace("Kept", "would keep", 1))
        if envrc_removable(project):
            ui.info(f"would remove {ENVRC} (written by pyve, unchanged)")
        ui.say("would remove pyve's lines from .gitignore" if gitignore_has_block(project.root)
               else "nothing else to remove")
        return 0
    removed: list[str] = []
    state = project.root / STATE_DIR
    linked_state = state.is_symlink()
    with project_lock(project.state_dir):
        # Again under the lock (a concurrent purge may have removed some), but never what only
        # taking the lock made (.pyve/ of a project pyve had not touched).
        items = [item for item in planned(project) if item in items]
        for item in items:
            if item != state:
                # .venv (renamed aside first), or what a killed removal left of an old one
                discard(item) if item.name == VENV_DIR else remove(item)
                removed.append(f"{item.name}/")
        if envrc_removable(project):  # an edited or committed .envrc is the user's: kept
            (project.root / ENVRC).unlink()
            removed.append(ENVRC)
        lines = remove_gitignore_lines(project.root)
        note = gitignore_problem(project.root)
        if lines:
            removed.append(f".gitignore lines ({', '.join(lines)})")
        # .pyve/ last: it holds the lock we are holding.
        if state in items and linked_state:
            state.unlink()  # the link only: what it points at is the user's
        elif state in items:
            for child in state.iterdir():
                if child.name != "lock":
                    remove(child)  # a symlink in .pyve/ (envs, say) is unlinked, not followed
            # Remove the lock file and .pyve/ while still holding the lock: a process waiting
            # for it then finds its lock file unlinked and starts over with a fresh one
            # (locking._acquire). Removing .pyve/ after releasing the lock would delete the
            # state of a build that had just started in it.
            (state / "lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # a waiter already made a new lock: keep it
                state.rmdir()
    if state in items:
        removed.append(f"{STATE_DIR}" + (" (a symlink: the link only)" if linked_state else "/"))
    if removed:
        ui.info("Removed: " + ", ".join(removed))
    else:
        ui.say("Nothing to remove: no environment made by pyve here.")
    if note:
        ui.info(note)
    for line in kept:
        ui.info(line)
    ui.say("Kept pyve.toml, lock files and all your files.")
    return 0
