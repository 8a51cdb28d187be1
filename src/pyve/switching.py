"""Changing a project's backend with `pyve init`: one rule, decided before anything is deleted.

The rule (docs/backends.md repeats it):
- the old backend is the one pyve.toml records (else the last build's .pyve/decision.json);
- if the new decision names another backend AND the old backend's environment is still on
  disk, the switch removes it, so nothing is orphaned -- and asks first:
  `Switch from venv to micromamba? The old environment will be removed. [y/N]:`
  Enter, `n` or end of input: no (exit 1, nothing changed). `--yes`: yes.
  `CI` set without `--yes`: no prompt, exit 1 with a hint to pass --yes (a pipeline never
  deletes an environment on a default);
- no old environment on disk (e.g. after `pyve purge`, as in the Backends Guide's
  recipes): nothing to remove, so no question -- the switch just happens.
Only what pyve made is removed: a .venv with pyve's marker, the envs under .pyve/envs/.
"""

from __future__ import annotations

import shutil
from argparse import Namespace
from pathlib import Path

from pyve import ui
from pyve.errors import PyveError
from pyve.project import STATE_DIR, VENV_DIR, Project

ENVS_DIR = f"{STATE_DIR}/envs"


def previous_backend(project: Project) -> str | None:
    recorded = project.config.get("backend")
    if isinstance(recorded, str) and recorded in ("venv", "micromamba"):
        return recorded
    from pyve.commands.common import recorded_decision

    last = recorded_decision(project) or {}
    backend = last.get("backend")
    return backend if backend in ("venv", "micromamba") else None


def leftovers(project: Project, backend: str) -> list[Path]:
    """The environment(s) pyve built for `backend` that are still on disk."""
    if backend == "venv":
        venv = project.root / VENV_DIR
        # pyve's marker: a .venv made by another tool is not ours to delete
        from pyve.backends.venv import MARKER

        made_by_pyve = (project.root / MARKER).is_file() and not venv.is_symlink()
        return [venv] if made_by_pyve else []
    envs = project.root / ENVS_DIR
    if not envs.is_dir() or envs.is_symlink():
        return []
    return sorted(envs.iterdir())


def confirm_switch(project: Project, new: str, args: Namespace) -> list[Path]:
    """Ask (per the rule above) and return what to remove; raise when the answer is no."""
    old = previous_backend(project)
    if old is None or old == new:
        return []
    doomed = leftovers(project, old)
    if not doomed:
        return []
    names = ", ".join(sorted({_display(project, p) for p in doomed}))
    if getattr(args, "yes", False):
        return doomed
    if ui.is_ci():
        raise PyveError(
            f"switching from {old} to {new} would remove the old environment ({names})",
            hint="pass --yes to switch (CI never removes an environment on a default)")
    question = f"Switch from {old} to {new}? The old environment will be removed."
    if ui.ask_yes_no(question, default=False):
        return doomed
    raise PyveError(f"kept the {old} backend; nothing changed",
                    hint=f"answer y or pass --yes to switch; `--backend {old}` keeps {old}")


def remove(project: Project, doomed: list[Path]) -> None:
    for path in doomed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    if doomed:
        names = ", ".join(sorted({_display(project, p) for p in doomed}))
        ui.info(f"Removed the old environment: {names}")


def _display(project: Project, path: Path) -> str:
    rel = path.relative_to(project.root)
    # .pyve/envs/<hash> and its <hash>.solution.json are one environment to the user
    return f"{ENVS_DIR}/" if str(rel).startswith(ENVS_DIR) else f"{rel}/"
