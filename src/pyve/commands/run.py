"""`pyve run CMD ARGS...`: run a command inside the environment; its exit code passes through."""

from __future__ import annotations

import os
import shutil
from argparse import Namespace

from pyve import ui
from pyve.commands.common import existing_env, load_backend
from pyve.decision import Decision
from pyve.errors import PyveError
from pyve.fastpath import env_bin, foreign_pip, run_environ
from pyve.project import Project


def bring_up_to_date(project: Project, decision: Decision) -> None:
    """Build when a stage is stale (its lines go to stderr). When all is fresh, the build is
    a silent no-op that saves the fast-path snapshot, so the next `pyve run` is fast again."""
    from pyve.commands.build import build
    from pyve.graph import plan
    from pyve.locking import project_lock

    backend = load_backend(decision.backend)
    lock = backend.lock_stage()
    # the lock alone is not the env: re-locking (or a lock that cannot be solved) is quiet
    fresh = all(r.status == "up to date"
                for r in plan(project, backend.stages(project, decision)) if r.name != lock)
    saved, quiet = ui._out, ui.quiet
    ui._out, ui.quiet = ui.err(), quiet or fresh
    try:
        with project_lock(project.state_dir):
            build(project, decision, name_kept=False)
    except PyveError as exc:
        # The env is built; only its lock failed: the command runs, with one line saying so.
        if [r.name for r in exc.results if r.status == "failed"] != [lock]:
            raise
        from pyve.redact import one_line

        ui.quiet = quiet
        ui.info(one_line(f"warning: {backend.lock_file} was not written ({exc.message}); "
                         "running the command in the environment as installed"))
    finally:
        ui._out, ui.quiet = saved, quiet


def run(args: Namespace) -> int:
    project = Project.load()
    decision, backend = existing_env(project, args)
    if not getattr(args, "frozen", False):
        # The fast path (cli.main) found something changed: bring the env up to date first,
        # printing to stderr, so the command's stdout stays the command's.
        bring_up_to_date(project, decision)
    run_env = backend.run_env(project, decision)
    env = run_environ(run_env)
    exe = shutil.which(args.command[0], path=env["PATH"])
    if exe is None:
        raise PyveError(f"command not found in the environment: {args.command[0]}",
                        hint="install it into the environment, or check the spelling")
    if foreign_pip(args.command[0], exe, run_env):
        raise PyveError(f"the environment has no {args.command[0]}; {exe} would install into "
                        "another Python",
                        hint=f"install with `uv pip install --python {env_bin(run_env)}/python"
                             ' ...`, or set installer = "pip" in pyve.toml and run `pyve build`')
    os.chdir(getattr(args, "start_dir", None) or project.root)  # the user's folder, as uv does
    os.execve(exe, args.command, env)  # the command's exit code is ours
    return 0  # pragma: no cover
