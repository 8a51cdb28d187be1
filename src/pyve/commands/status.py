"""`pyve status`: backend and why, python and why, env path, each stage fresh or stale."""

from __future__ import annotations

from argparse import Namespace

from pyve import projectlock, report, ui
from pyve.commands.common import load_backend, make_decision
from pyve.errors import PyveError
from pyve.graph import env_fingerprint, fingerprints, plan
from pyve.installers.prune import by_hand_text
from pyve.project import Project
from pyve.reqfiles import scan


def run(args: Namespace) -> int:
    project = Project.load()
    decision = make_decision(project, args, interactive=False, may_install=False)
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    results = plan(project, stages)
    env_dir = backend.env_dir(project, decision)
    lock = decision.project_lock
    stale = projectlock.stale(project.root, lock, decision.extras, decision.groups,
                              decision.python_path) if lock else None
    # installed by hand: the user's, kept by a build (not stale)
    kept = backend.by_hand(project, decision) if env_dir.exists() else {}
    roots = backend.by_hand_roots(project, decision, kept)
    if getattr(args, "json", False):
        prints = fingerprints(project, stages)
        report.emit("status", report.from_results(results, prints),
                    fingerprint=env_fingerprint(prints), **decision.as_dict(),
                    project_lock_stale=stale, env=str(env_dir), env_exists=env_dir.exists(),
                    by_hand=[{"name": name.removeprefix("conda:"), "version": version,
                              "kind": "conda" if name.startswith("conda:") else "pip",
                              "requested": name in roots}
                             for name, version in kept.items()])
        return 0
    ui.info(f"backend: {decision.backend}  ({decision.backend_reason})")
    if decision.python_version:
        ui.info(f"python:  {decision.python_version}  ({decision.python_reason})  "
                f"{decision.python_path}"
                + (f"  [{decision.python_source}]" if decision.python_source else ""))
    else:
        ui.info(f"python:  {decision.python_reason} (the conda env brings its own)")
    ui.info(f"env:     {env_dir}" + ("" if env_dir.exists() else "  (not created yet)"))
    if decision.pip_sources or decision.extras or decision.groups:
        chosen = [*decision.pip_sources]
        read = _files_read(project, list(decision.pip_sources))
        chosen += [f"read too: {', '.join(read)}"] if read else []
        chosen += [f"extras {', '.join(decision.extras)}"] if decision.extras else []
        chosen += [f"groups {', '.join(decision.groups)}"] if decision.groups else []
        ui.info(f"inputs:  {'; '.join(chosen)}")
    if lock:
        ui.info(f"lock:    {lock} ({projectlock.describe(lock)}): " + (
            "pyve installs the versions it pins (project_lock = false in pyve.toml "
            "resolves afresh)" if stale is None else
            f"stale ({stale}): pyve keeps its pins that still fit; "
            f"{projectlock.refresh_command(project.root, lock)}"))
    for note in decision.notes:
        ui.info(f"note:    {note}")
    if kept:
        ui.info(f"by hand: {by_hand_text(kept, roots)}  (kept by `pyve build`; "
                "`pyve build --exact` removes them)")
    ui.say("stages:")
    for result in results:
        why = f"  ({'; '.join(result.reasons)})" if result.reasons else ""
        ui.info(f"  {result.name:<11} {result.status}{why}")
    return 0


def _files_read(project: Project, sources: list[str]) -> list[str]:
    """The files the sources pull in (-r/-c includes, dynamic metadata, local projects),
    a local project built from its sources as one `folder/ (N files)`."""
    try:
        inputs = scan(project.root, sources)
    except PyveError:
        return []  # the stage's line says what is wrong with them
    in_trees = {name for files in inputs.trees.values() for name in files}
    shown = [name for name in inputs.files if name not in sources and name not in in_trees]
    shown += [f"{folder.rstrip('/')}/ ({len(files)} files)"
              for folder, files in inputs.trees.items()]
    return shown
