"""`pyve shell-hook [--shell bash|zsh|fish]`: print what activates the environment, for
`eval "$(pyve shell-hook)"` (bash/zsh) or `pyve shell-hook --shell fish | source`.

Only the script goes to stdout; problems go to stderr with a non-zero exit, so a failed
hook evaluates to nothing instead of half an activation.
"""

from __future__ import annotations

from argparse import Namespace

from pyve.activation import default_shell, render_hook
from pyve.commands.common import load_backend, make_decision
from pyve.errors import PyveError
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    env_dir = backend.env_dir(project, decision)
    if not (env_dir / "bin").is_dir():
        raise PyveError(f"no environment at {env_dir}", hint="run `pyve init` first")
    shell = args.shell or default_shell()
    print(render_hook(backend.run_env(project, decision), shell), end="")
    return 0
