"""`pyve init [VERSION]`: decide, record the decision in pyve.toml, build."""

from __future__ import annotations

from argparse import Namespace

from pyve.commands.build import build
from pyve.commands.common import load_backend, make_decision
from pyve.locking import project_lock
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    if args.version and args.python and args.version != args.python:
        from pyve.errors import UsageError

        raise UsageError(f"two Python versions given: {args.version} and --python {args.python}")
    args.python = args.python or args.version
    with project_lock(project.state_dir):
        decision = make_decision(project, args)
        load_backend(decision.backend)  # unsupported backend: fail before writing anything
        record: dict[str, object] = {"backend": decision.backend}
        if decision.python_request:
            record["python"] = decision.python_request
        sources = [*decision.pip_sources, *decision.skipped_sources]
        if sources:
            record["install_deps"] = (
                True if not decision.skipped_sources
                else False if not decision.pip_sources
                else ",".join(decision.pip_sources)
            )
        project.save_config(record)
        return build(project, decision, force=args.force)
