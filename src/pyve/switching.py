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

A .venv pyve did not make (no marker) is never replaced on a default either: the build
refuses it in one line. `--force` replaces it after the same kind of question
(`--yes`: yes; `CI` without `--yes`: refused). Replacing is how pyve adopts such a venv: it
never installs into an environment it did not make, because it could not vouch for what is
inside (an interpreter it did not choose, packages installed by hand).
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from pyve import ui
from pyve.errors import PyveError
from pyve.fsutil import discard
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
        # pyve's marker: a .venv made by another tool is not ours to delete
        from pyve.backends.venv.backend import made_by_pyve

        return [project.root / VENV_DIR] if made_by_pyve(project) else []
    envs = project.root / ENVS_DIR
    if not envs.is_dir() or envs.is_symlink() or envs.parent.is_symlink():
        return []  # never reached through a symlink
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
        discard(path)  # renamed aside first; a symlink is unlinked, never followed
    if doomed:
        names = ", ".join(sorted({_display(project, p) for p in doomed}))
        ui.info(f"Removed the old environment: {names}")


def replace_foreign_venv(project: Project, backend: str, args: Namespace,
                         interactive: bool = True) -> None:
    """`build --force` / `init --force` with a .venv pyve did not make: ask (per the rule
    above), then remove it so the build makes pyve's own. Without --force the build's
    create-env refuses it (VenvBackend.create)."""
    from pyve.backends.venv.backend import foreign_venv_error, made_by_pyve, read_pyvenv_cfg

    venv = project.root / VENV_DIR
    if backend != "venv" or not getattr(args, "force", False) or made_by_pyve(project) or \
            not (venv.exists() or venv.is_symlink()):
        return
    cfg = {} if venv.is_symlink() else read_pyvenv_cfg(venv)
    version = cfg.get("version") or cfg.get("version_info")
    if not version:  # not a virtual environment: a folder or file of the user's, never replaced
        raise foreign_venv_error(project)
    if not getattr(args, "yes", False):
        if ui.is_ci() or not interactive:
            raise PyveError(f"{VENV_DIR} is a python {version} virtual environment pyve did "
                            "not make; --force replaces it only with --yes here",
                            hint=f"pass --yes as well, or move {VENV_DIR} away")
        question = (f"{VENV_DIR} is a python {version} virtual environment pyve did not make. "
                    "Replace it? Everything in it will be deleted.")
        if not ui.ask_yes_no(question, default=False):
            raise PyveError(f"kept {VENV_DIR}; nothing changed",
                            hint=f"answer y to replace it, or move {VENV_DIR} away")
    discard(venv)
    ui.info(f"Removed {VENV_DIR}/ (python {version}, not made by pyve) to build pyve's own.")


def _display(project: Project, path: Path) -> str:
    rel = path.relative_to(project.root)
    # .pyve/envs/<hash> and its <hash>.solution.json are one environment to the user
    return f"{ENVS_DIR}/" if str(rel).startswith(ENVS_DIR) else f"{rel}/"
