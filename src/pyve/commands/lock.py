"""`pyve lock`: run the backend's lock stage alone (no environment rebuild)."""

from __future__ import annotations

from argparse import Namespace

from pyve import ui
from pyve.commands.common import load_backend, make_decision, print_stage
from pyve.graph import run_stages
from pyve.locking import project_lock
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    with project_lock(project.state_dir):
        decision = make_decision(project, args, interactive=False)
        backend = load_backend(decision.backend)
        name = backend.lock_stage()
        stages = [s for s in backend.stages(project, decision) if s.name == name]
        run_stages(project, stages, print_stage, force=True)
        ui.say("Lock written.")
    return 0
