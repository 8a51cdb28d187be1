"""`pyve lock`: run the backend's lock stage alone (no environment rebuild);
`pyve lock --check`: say whether the lock is fresh for every platform, change nothing."""

from __future__ import annotations

import json
from argparse import Namespace

from pyve import progress, report, ui
from pyve.commands.common import load_backend, make_decision, print_stage
from pyve.errors import EXIT_FAILURE, UsageError
from pyve.graph import run_stages
from pyve.locking import project_lock
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    if args.check:
        return check(project, args)
    with project_lock(project.state_dir):
        decision = make_decision(project, args, interactive=False)
        backend = load_backend(decision.backend)
        if args.platform:
            backend.lock_for(project, decision, list(args.platform))
            ui.say(f"Lock written for {', '.join(args.platform)}.")
            return 0
        name = backend.lock_stage()
        stages = [s for s in backend.stages(project, decision) if s.name == name]
        if not stages:
            raise UsageError(f"nothing to lock: {backend.lock_file} is this project's "
                             "definition, installed as it is")
        with progress.session():
            run_stages(project, stages, print_stage, force=True)
        ui.say("Lock written.")
    return 0


def check(project: Project, args: Namespace) -> int:
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    status = backend.lock_status(project, decision, args.platform)
    stale = {p: why for p, why in status.items() if why}
    if getattr(args, "json", False):
        print(json.dumps({"schema": report.SCHEMA, "command": "lock", "ok": not stale,
                          "fresh": not stale, "lock": backend.lock_file, "platforms": [
            {"platform": p, "fresh": why is None, "reason": why} for p, why in status.items()
        ]}, indent=2))
    elif stale:
        for platform, why in stale.items():
            ui.info(f"stale: {platform}: {why}")
    else:
        ui.say(f"{backend.lock_file} is fresh for {', '.join(status)}.")
    return EXIT_FAILURE if stale else 0
