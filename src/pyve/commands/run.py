"""`pyve run CMD ARGS...`: run a command inside the environment; its exit code passes through."""

from __future__ import annotations

import os
import shutil
from argparse import Namespace

from pyve.commands.common import load_backend, make_decision
from pyve.errors import PyveError, UsageError
from pyve.project import Project


def run(args: Namespace) -> int:
    if not args.command:
        raise UsageError("pyve run needs a command", hint="e.g. `pyve run python -m pytest`")
    project = Project.load()
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    env_dir = backend.env_dir(project, decision)
    if not (env_dir / "bin").is_dir():
        raise PyveError(f"no environment at {env_dir}", hint="run `pyve init` first")
    env = dict(os.environ)
    for key, value in backend.run_env(project, decision).items():
        env[key] = value + env.get("PATH", "") if key == "PATH" else value
    env.pop("PYTHONHOME", None)
    exe = shutil.which(args.command[0], path=env["PATH"])
    if exe is None:
        raise PyveError(f"command not found in the environment: {args.command[0]}",
                        hint="install it into the environment, or check the spelling")
    os.execve(exe, args.command, env)  # the command's exit code is ours
    return 0  # pragma: no cover
