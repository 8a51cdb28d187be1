"""`pyve shell-hook [--shell bash|zsh|fish]`: print what activates the environment, for
`eval "$(pyve shell-hook)"` (bash/zsh) or `pyve shell-hook --shell fish | source`.

Only the script goes to stdout; problems go to stderr with a non-zero exit, so a failed
hook evaluates to nothing instead of half an activation.
"""

from __future__ import annotations

from argparse import Namespace

from pyve.activation import default_shell, render_hook
from pyve.commands.common import existing_env
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    decision, backend = existing_env(project, args)
    shell = args.shell or default_shell()
    print(render_hook(backend.run_env(project, decision), shell), end="")
    return 0
