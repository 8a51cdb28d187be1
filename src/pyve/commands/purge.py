"""`pyve purge`: remove what pyve made -- .venv, .pyve/, its .gitignore lines -- nothing else."""

from __future__ import annotations

import shutil
from argparse import Namespace
from pathlib import Path

from pyve import ui
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


def run(args: Namespace) -> int:
    project = Project.load()
    items = planned(project)
    if getattr(args, "dry_run", False):
        for item in items:
            ui.info(f"would remove {item.name}/")
        ui.say("would remove pyve's lines from .gitignore" if _has_gitignore_block(project)
               else "nothing else to remove")
        return 0
    removed: list[str] = []
    with project_lock(project.state_dir):
        venv = project.root / VENV_DIR
        if venv in items:
            shutil.rmtree(venv)
            removed.append(f"{VENV_DIR}/")
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
    if state in items:
        shutil.rmtree(state, ignore_errors=True)
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
