"""What every building command shares: make the Decision (asking only where the rules say),
then hand the backend's stages to the graph, under the project lock."""

from __future__ import annotations

import json
import os
from argparse import Namespace

from pyve import pythons, sources, ui
from pyve.backends import get_backend
from pyve.backends.base import Backend, Stage
from pyve.decision import BackendChoice, Decision, choose_backend, resolve_ambiguous
from pyve.errors import PyveError
from pyve.graph import StageResult
from pyve.project import FILE_KINDS, Project, read_python_pin


def backend_choice(project: Project, args: Namespace, interactive: bool = True) -> BackendChoice:
    choice = choose_backend(
        getattr(args, "backend", None),
        os.environ.get("PYVE_BACKEND") or None,
        project.config.get("backend"),
        project.conda_files,
        project.pip_files,
        reinit=getattr(args, "command_name", None) == "init",
    )
    if not choice.ambiguous:
        return choice
    if getattr(args, "yes", False):
        return resolve_ambiguous(choice, True, "both kinds of files found; --yes takes micromamba")
    if not interactive:
        return resolve_ambiguous(choice, True, "both kinds of files found; default micromamba")
    if ui.is_ci():
        ui.say("CI is set: chose the micromamba backend without prompting "
               "(both conda and pip files found).")
        return resolve_ambiguous(choice, True, "both kinds of files found; CI default micromamba")
    lines = ["Detected files:"]
    lines += [f"  • {f} ({FILE_KINDS[f]})" for f in (*choice.conda_files, *choice.pip_files)]
    ui.info("\n".join(lines) + "\n")
    yes = ui.ask_yes_no("Initialize with micromamba backend?", default=True)
    how = "you chose micromamba at the prompt" if yes else "you chose venv at the prompt"
    return resolve_ambiguous(choice, yes, how)


def python_choice(project: Project, args: Namespace) -> tuple[pythons.Interpreter, str, str | None]:
    """(interpreter, why, request to record in pyve.toml)"""
    asked = getattr(args, "python", None)
    if asked:
        return pythons.select(asked), f"asked for {asked}", asked
    recorded = project.config.get("python")
    if recorded:
        return pythons.select(str(recorded)), f"pyve.toml says {recorded}", None
    pin = read_python_pin(project.root)
    if pin:
        spec, where = pin
        return pythons.select(spec), f"{where} says {spec}", None
    current = pythons.running()
    return current, "the Python running pyve (no pin found)", current.minor


def pip_choice(
    project: Project, args: Namespace, sources: list[str], interactive: bool = True
) -> tuple[list[str], list[str]]:
    """(sources to install, sources declined): flags > pyve.toml > --yes/CI > prompt."""
    if getattr(args, "no_install_deps", False):
        return [], sources
    if getattr(args, "auto_install_deps", False) or getattr(args, "yes", False) or ui.is_ci():
        return sources, []
    recorded = project.config.get("install_deps")
    if isinstance(recorded, bool):
        return (sources, []) if recorded else ([], sources)
    if isinstance(recorded, str):
        agreed = [s for s in sources if s in recorded.split(",")]
        return agreed, [s for s in sources if s not in agreed]
    if not interactive:
        return sources, []
    agreed = [s for s in sources
              if ui.ask_yes_no(f"Install pip dependencies from {s}?", default=True)]
    return agreed, [s for s in sources if s not in agreed]


def make_decision(project: Project, args: Namespace, interactive: bool = True) -> Decision:
    """interactive=False: never prompt; take the defaults a prompt would offer."""
    choice = backend_choice(project, args, interactive)
    assert choice.backend is not None
    if choice.backend == "micromamba":
        # conda brings its own Python: the request becomes a conda spec, no host interpreter.
        asked = getattr(args, "python", None) or project.config.get("python")
        interp = pythons.Interpreter(str(asked or ""), "", "conda")
        why = f"asked for {asked}" if asked else "from environment.yml"
        request = str(asked) if asked else None
    else:
        interp, why, request = python_choice(project, args)
    found = sources.candidate_sources(project.root, choice.backend)
    install, declined = pip_choice(project, args, found, interactive)
    extras = tuple(project.config.get("extras") or ())
    groups = tuple(project.config.get("groups") or ())
    sources.check_selection(project.root, extras, groups)
    return Decision(
        backend=choice.backend,
        backend_reason=choice.reason,
        python_version=interp.version,
        python_path=os.path.realpath(interp.path) if interp.path else "",  # one spelling each
        python_reason=why,
        python_request=request,
        pip_sources=tuple(install),
        skipped_sources=tuple(declined),
        frozen=bool(getattr(args, "frozen", False)),
        installer=installer_choice(project, load_backend(choice.backend)),
        extras=extras,
        groups=groups,
        notes=tuple(sources.notes(project.root, choice.backend, install)),
    )


def installer_choice(project: Project, backend: Backend) -> str:
    """PYVE_INSTALLER > pyve.toml `installer` > the backend's default (installers.choose)."""
    from pyve import installers

    return installers.choose(os.environ.get("PYVE_INSTALLER"), project.config.get("installer"),
                             backend.installers)


def load_backend(name: str) -> Backend:
    try:
        return get_backend(name)
    except ImportError:
        raise PyveError(
            f"the {name} backend is not yet supported by this pyve",
            hint="use `--backend venv`",
        ) from None


def existing_env(project: Project, args: Namespace) -> tuple[Decision, Backend]:
    """The decision and backend of an environment that must already exist (run, shell-hook)."""
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    env_dir = backend.env_dir(project, decision)
    if not (env_dir / "bin").is_dir():
        if project.state_dir.is_dir():  # init (or a build) ran, and did not finish
            raise PyveError(f"no environment at {env_dir}: the last build did not finish",
                            hint="run `pyve build` to finish it and see what failed")
        raise PyveError(f"no environment at {env_dir}", hint="run `pyve init` first")
    return decision, backend


def recorded_decision(project: Project) -> dict[str, object] | None:
    path = project.state_dir / "decision.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def print_stage(result: StageResult) -> None:
    if result.status == "running":
        ui.detail(f"  {result.name}: running ({', '.join(result.reasons)})")
        return
    why = f"  ({'; '.join(result.reasons)})" if result.reasons else ""
    took = f"  {result.seconds:.1f}s" if result.status in ("ran", "failed") else ""
    colour = {"ran": "green", "failed": "red", "stale": "yellow",
              "would run": "yellow"}.get(result.status, "dim")
    ui.out().print(f"  {result.name:<11} [{colour}]{result.status}[/{colour}]{took}{why}",
                   highlight=False) if not ui.quiet else None


def summary(results: list[StageResult], stages: list[Stage]) -> None:
    ran = [r for r in results if r.status == "ran"]
    if not ran:
        ui.say("Nothing to do: every stage is up to date.")
    else:
        ui.say(f"Ran {len(ran)} of {len(stages)} stages.")
