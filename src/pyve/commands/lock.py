"""`pyve lock`: run the backend's lock stage alone (no environment rebuild);
`pyve lock --check`: say whether the lock is fresh for every platform, change nothing."""

from __future__ import annotations

import json
from argparse import Namespace

from pyve import ui
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
            if decision.backend != "micromamba":
                raise UsageError("--platform applies to conda locks (the micromamba backend)")
            backend.write_lock(project, backend.envfile(project, decision), decision,
                               list(args.platform))  # type: ignore[attr-defined]
            ui.say(f"Lock written for {', '.join(args.platform)}.")
            return 0
        name = backend.lock_stage()
        stages = [s for s in backend.stages(project, decision) if s.name == name]
        if not stages:
            raise UsageError("nothing to lock: the project has no environment.yml")
        run_stages(project, stages, print_stage, force=True)
        ui.say("Lock written.")
    return 0


def check(project: Project, args: Namespace) -> int:
    decision = make_decision(project, args, interactive=False)
    if decision.backend != "micromamba":
        raise UsageError("lock --check applies to conda-lock.yml (the micromamba backend)")
    from pyve.conda import lockfile

    backend = load_backend(decision.backend)
    env = backend.envfile(project, decision)  # type: ignore[attr-defined]
    platforms = backend.lock_platforms(project, env, args.platform)  # type: ignore[attr-defined]
    status = lockfile.check_fresh(project.path(lockfile.LOCK_NAME), env, platforms)
    stale = {p: why for p, why in status.items() if why}
    if getattr(args, "json", False):
        print(json.dumps({"fresh": not stale, "platforms": [
            {"platform": p, "fresh": why is None, "reason": why} for p, why in status.items()
        ]}, indent=2))
    elif stale:
        for platform, why in stale.items():
            ui.info(f"stale: {platform}: {why}")
    else:
        ui.say(f"conda-lock.yml is fresh for {', '.join(status)}.")
    return EXIT_FAILURE if stale else 0
