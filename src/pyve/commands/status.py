"""`pyve status`: backend and why, python and why, env path, each stage fresh or stale."""

from __future__ import annotations

from argparse import Namespace

from pyve import report, ui
from pyve.commands.common import load_backend, make_decision
from pyve.graph import env_fingerprint, fingerprints, plan
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    results = plan(project, stages)
    env_dir = backend.env_dir(project, decision)
    if getattr(args, "json", False):
        prints = fingerprints(project, stages)
        report.emit("status", report.from_results(results, prints),
                    fingerprint=env_fingerprint(prints), **decision.as_dict(),
                    env=str(env_dir), env_exists=env_dir.exists())
        return 0
    ui.info(f"backend: {decision.backend}  ({decision.backend_reason})")
    if decision.python_version:
        ui.info(f"python:  {decision.python_version}  ({decision.python_reason})  "
                f"{decision.python_path}")
    else:
        ui.info(f"python:  {decision.python_reason} (the conda env brings its own)")
    ui.info(f"env:     {env_dir}" + ("" if env_dir.exists() else "  (not created yet)"))
    if decision.pip_sources or decision.extras or decision.groups:
        chosen = [*decision.pip_sources]
        chosen += [f"extras {', '.join(decision.extras)}"] if decision.extras else []
        chosen += [f"groups {', '.join(decision.groups)}"] if decision.groups else []
        ui.info(f"inputs:  {'; '.join(chosen)}")
    for note in decision.notes:
        ui.info(f"note:    {note}")
    ui.say("stages:")
    for result in results:
        why = f"  ({'; '.join(result.reasons)})" if result.reasons else ""
        ui.info(f"  {result.name:<11} {result.status}{why}")
    return 0
