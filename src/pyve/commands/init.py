"""`pyve init [VERSION]`: decide, record the decision in pyve.toml, build."""

from __future__ import annotations

from argparse import Namespace

from pyve import switching, ui
from pyve.activation import write_envrc
from pyve.commands.build import build
from pyve.commands.common import config_record, load_backend, make_decision
from pyve.decision import Decision
from pyve.locking import project_lock
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    outer = _enclosing_project(project)
    if args.version and args.python and args.version != args.python:
        from pyve.errors import UsageError

        raise UsageError(f"two Python versions given: {args.version} and --python {args.python}")
    args.python = args.python or args.version
    with project_lock(project.state_dir):
        decision = make_decision(project, args)
        backend = load_backend(decision.backend)
        backend.stages(project, decision)  # bad input fails here, before anything is written
        for note in decision.notes:
            ui.say(f"note: {note}")
        if outer:
            ui.info(f"note: {project.root} is inside the project {outer}; made a separate "
                    "project here (pyve commands in this folder and below use it)")
        # a backend change asks (or refuses in CI) before anything is deleted or recorded
        yes = bool(getattr(args, "yes", False))
        doomed = switching.confirm_switch(project, decision.backend, yes=yes)
        backend.adopt(project, force=bool(args.force), yes=yes, interactive=True)
        for said in backend.prepare(project, decision):
            ui.say(said)
        with switching.kept_until_built(project, decision.backend, doomed):
            project.save_config(config_record(decision, backend))
            if not getattr(args, "no_direnv", False) and write_envrc(project.root):
                ui.say("Wrote .envrc for direnv (`direnv allow` to use it; --no-direnv skips "
                       "it).")
            code = build(project, decision, force=args.force)
        switching.remove(project, doomed)  # the new environment works: the old one goes
        if args.force and code == 0:
            say_rebuilt(project, decision)
        return code


def say_rebuilt(project: Project, decision: Decision) -> None:
    """`init --force`: name what was rebuilt and from which files."""
    env = load_backend(decision.backend).env_dir(project, decision)
    backend = load_backend(decision.backend)
    inputs = [*backend.definition_files(project), *decision.pip_sources]
    python = f"python {decision.python_version}, " if decision.python_version else ""
    ui.info(f"Rebuilt {env.relative_to(project.root)}/ from scratch ({python}"
            f"{', '.join(inputs) or 'no dependency files'}).")


def _enclosing_project(project: Project) -> str | None:
    """`pyve init` makes the project where it stands (or -C), never a nested one by
    accident: in a folder with no project file of its own, inside a project (its src/, say),
    it names that project and stops; a folder with its own files is a project of its own
    (returned, for a note, when it is new and lies inside another)."""
    from pyve import projectroot
    from pyve.errors import UsageError

    here = str(project.root)
    if projectroot.made_by_pyve(here):
        return None  # initialised here already: init again changes this one
    outer = projectroot.find(here, above=True)
    if outer is None or projectroot.has_project_file(here):
        return outer
    raise UsageError(
        f"{here} is inside the project {outer} and has no project file of its own",
        hint=f"`pyve -C {outer} init` to initialise that one; for a separate project here, "
             "add its requirements.txt (or pyproject.toml, environment.yml) first")
