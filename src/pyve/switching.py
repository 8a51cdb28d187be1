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
The old environment goes only once the new one is built (`kept_until_built`): a switch
whose build fails (a spec no channel has, no network) leaves the old environment, pyve.toml
and pyve's records of the old build as they were, so `pyve run` goes on working in it.

A .venv pyve did not make (no marker) is never replaced on a default either: the build
refuses it in one line. `--force` replaces it after the same kind of question
(`--yes`: yes; `CI` without `--yes`: refused). Replacing is how pyve adopts such a venv
(VenvBackend.adopt): it never installs into an environment it did not make, because it could
not vouch for what is inside (an interpreter it did not choose, packages installed by hand).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyve import ui
from pyve.decision import BACKENDS
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_bytes, discard
from pyve.graph import STAMP_DIR, STATE_FILE
from pyve.project import CONFIG_FILE, Project, read_config

# What says which environment the project has: put back as it was when a switch fails.
# (.pyve/fast.json is not: every build clears it, and the next command writes it again.)
RECORDS = (CONFIG_FILE, STATE_FILE, ".pyve/decision.json")


def previous_backend(project: Project) -> str | None:
    recorded = project.config.get("backend")
    if isinstance(recorded, str) and recorded in BACKENDS:
        return recorded
    from pyve.commands.common import recorded_decision

    last = recorded_decision(project) or {}
    backend = last.get("backend")
    return backend if backend in BACKENDS else None


def leftovers(project: Project, backend: str) -> list[Path]:
    """The environment(s) pyve built for `backend` that are still on disk."""
    from pyve.backends import get_backend

    return get_backend(backend).leftovers(project)


def confirm_switch(project: Project, new: str, yes: bool) -> list[Path]:
    """Ask (per the rule above) and return what to remove; raise when the answer is no."""
    old = previous_backend(project)
    if old is None or old == new:
        return []
    doomed = leftovers(project, old)
    if not doomed:
        return []
    names = ", ".join(sorted({_display(project, p) for p in doomed}))
    if yes:
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


@contextmanager
def kept_until_built(project: Project, new: str, doomed: list[Path]) -> Iterator[None]:
    """Around a switch's build: when it fails (or is interrupted), put pyve.toml and pyve's
    records of the old build back, so the old environment (still on disk) is the project's
    again, and say so."""
    if not doomed:
        yield
        return
    saved = _records(project)
    try:
        yield
    except BaseException:
        _restore(project, saved)
        old = previous_backend(project) or "old"
        names = ", ".join(sorted({_display(project, p) for p in doomed}))
        ui.info(f"Kept the {old} environment ({names}) and pyve.toml as they were: "
                f"the {new} environment did not build; the switch happens once it does")
        raise


def _records(project: Project) -> dict[Path, bytes | None]:
    paths = [project.root / name for name in RECORDS]
    stamps = project.root / STAMP_DIR
    paths += sorted(p for p in stamps.rglob("*") if p.is_file()) if stamps.is_dir() else []
    saved: dict[Path, bytes | None] = {}
    for path in paths:
        try:
            saved[path] = path.read_bytes()
        except FileNotFoundError:
            saved[path] = None
    return saved


def _restore(project: Project, saved: dict[Path, bytes | None]) -> None:
    stamps = project.root / STAMP_DIR
    now = sorted(p for p in stamps.rglob("*") if p.is_file()) if stamps.is_dir() else []
    for path in [p for p in now if p not in saved]:
        path.unlink()  # a stamp of the new backend's stages
    for path, data in saved.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data)
    project.config = read_config(project.root / CONFIG_FILE)


def remove(project: Project, doomed: list[Path]) -> None:
    for path in doomed:
        discard(path)  # renamed aside first; a symlink is unlinked, never followed
    if doomed:
        names = ", ".join(sorted({_display(project, p) for p in doomed}))
        ui.info(f"Removed the old environment: {names}")


def _display(project: Project, path: Path) -> str:
    rel = path.relative_to(project.root)
    # an env kept under pyve's own folder (.pyve/envs/<hash>, its <hash>.solution.json) is
    # one environment to the user: named by the folder that holds it
    if rel.parts[0] == project.state_dir.name and len(rel.parts) > 2:
        return f"{Path(*rel.parts[:-1])}/"
    return f"{rel}/"
