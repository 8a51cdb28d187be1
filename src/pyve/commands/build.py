"""`pyve build`: run the task graph; only stale stages run, each with its reason."""

from __future__ import annotations

from argparse import Namespace

from pyve import state, ui
from pyve.commands.common import load_backend, make_decision, print_stage, summary
from pyve.decision import Decision
from pyve.graph import run_stages
from pyve.locking import project_lock
from pyve.project import Project, ensure_gitignore


def build(project: Project, decision: Decision, force: bool = False) -> int:
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    ui.say(
        f"pyve: [bold]{decision.backend}[/bold] backend ({decision.backend_reason}); "
        f"python {decision.python_version} ({decision.python_reason})"
    )
    ensure_gitignore(project.root)
    state.damaged_files.clear()
    results = run_stages(project, stages, print_stage, force=force)
    for name in state.damaged_files:
        ui.say(f"state file {name} was damaged; rebuilt it (every stage re-checked)")
    summary(results, stages)
    ui.info(f"Environment: {backend.env_dir(project, decision)}")
    return 0


def run(args: Namespace) -> int:
    project = Project.load()
    with project_lock(project.state_dir):
        decision = make_decision(project, args)
        return build(project, decision, force=getattr(args, "force", False))
