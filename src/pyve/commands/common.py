"""What every building command shares: make the Decision (asking only where the rules say),
then hand the backend's stages to the graph, under the project lock."""

from __future__ import annotations

import json
import os
from argparse import Namespace

from pyve import progress, projectlock, sources, ui, words
from pyve.backends import get_backend
from pyve.backends.base import Backend, Stage
from pyve.decision import Asked, BackendChoice, Decision, choose_backend, resolve_ambiguous
from pyve.envbins import refuse_path_separator
from pyve.errors import PyveError, first_line
from pyve.graph import StageResult
from pyve.project import FILE_KINDS, Project


def asked_of(args: Namespace) -> Asked:
    """The command line's answers as plain values (not every command has every flag)."""
    no_deps = getattr(args, "no_install_deps", False)
    auto_deps = getattr(args, "auto_install_deps", False)
    return Asked(
        backend=getattr(args, "backend", None),
        python=getattr(args, "python", None),
        yes=bool(getattr(args, "yes", False)),
        reinit=getattr(args, "command_name", None) == "init",
        install_deps=False if no_deps else True if auto_deps else None,
        frozen=bool(getattr(args, "frozen", False)),
        exact=bool(getattr(args, "exact", False)),
    )


def backend_choice(project: Project, asked: Asked, interactive: bool = True) -> BackendChoice:
    choice = choose_backend(
        asked.backend,
        os.environ.get("PYVE_BACKEND") or None,
        project.config.get("backend"),
        project.conda_files,
        project.pip_files,
        reinit=asked.reinit,
    )
    if not choice.ambiguous:
        return choice
    if asked.yes:
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


def pip_choice(
    project: Project, asked: Asked, sources: list[str], interactive: bool = True
) -> tuple[list[str], list[str]]:
    """(sources to install, sources declined): flags > pyve.toml > --yes/CI > prompt."""
    if asked.install_deps is False:
        return [], sources
    if asked.install_deps:
        return sources, []
    recorded = project.config.get("install_deps")
    if isinstance(recorded, bool):
        return (sources, []) if recorded else ([], sources)
    if isinstance(recorded, str):
        agreed = [s for s in sources if s in recorded.split(",")]
        return agreed, [s for s in sources if s not in agreed]
    # the last build's answers (a --yes or CI build records none in pyve.toml): asked once,
    # never again, so an `n` at a later prompt cannot empty the env that was built
    last = recorded_decision(project) or {}
    built = {*_names(last.get("pip_sources")), *_names(last.get("skipped_sources"))}
    if asked.yes or ui.is_ci() or not interactive or set(sources) <= built:
        kept = _names(last.get("skipped_sources"))
        return [s for s in sources if s not in kept], [s for s in sources if s in kept]
    agreed = [s for s in sources
              if s in _names(last.get("pip_sources"))
              or (s not in built
                  and ui.ask_yes_no(f"Install pip dependencies from {s}?", default=True))]
    return agreed, [s for s in sources if s not in agreed]


def _names(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def make_decision(project: Project, args: Namespace | Asked,
                  interactive: bool = True, may_install: bool = True) -> Decision:
    """interactive=False: never prompt; take the defaults a prompt would offer.
    may_install=False: a command that only looks (status, doctor, purge) never has uv
    download a missing Python."""
    asked = args if isinstance(args, Asked) else asked_of(args)
    prompts = ui.asked
    choice = backend_choice(project, asked, interactive)
    answered: tuple[str, ...] = ("backend",) if ui.asked > prompts else ()
    assert choice.backend is not None
    backend = load_backend(choice.backend)
    interp, why, request = backend.choose_python(project, asked.python, may_install)
    found = sources.candidate_sources(project.root, backend.installs_env_file_pip)
    prompts = ui.asked
    install, declined = pip_choice(project, asked, found, interactive)
    answered += ("install_deps",) if ui.asked > prompts else ()
    extras = tuple(project.config.get("extras") or ())
    groups = tuple(project.config.get("groups") or ())
    sources.check_selection(project.root, extras, groups)
    lock = projectlock.choose(project.root, install, project.config) \
        if backend.reads_project_lock else None
    return Decision(
        backend=choice.backend,
        backend_reason=choice.reason,
        python_version=interp.version,
        python_path=os.path.realpath(interp.path) if interp.path else "",  # one spelling each
        python_reason=why,
        python_source=interp.source,
        python_request=request,
        pip_sources=tuple(install),
        skipped_sources=tuple(declined),
        frozen=asked.frozen,
        exact=asked.exact,
        installer=installer_choice(project, backend),
        extras=extras,
        groups=groups,
        notes=tuple(sources.notes(project.root, backend.installs_env_file_pip, install,
                                  lock, project.config.get("project_lock") is False,
                                  projectlock.is_pyves(project.root / "pylock.toml"))),
        project_lock=lock,
        answered=answered,
    )


def config_record(decision: Decision, backend: Backend) -> dict[str, object]:
    """What pyve.toml records of a decision (`pyve init` writes all of it)."""
    record: dict[str, object] = {"backend": decision.backend}
    if decision.python_request:
        record["python"] = decision.python_request
    if len(backend.installers) > 1:
        # the choice sticks, as --backend does: a fresh clone, a shell without
        # PYVE_INSTALLER, or a pyve with another default builds with the same installer
        record["installer"] = decision.installer
    sources = [*decision.pip_sources, *decision.skipped_sources]
    if sources:
        record["install_deps"] = (
            True if not decision.skipped_sources
            else False if not decision.pip_sources
            else ",".join(decision.pip_sources)
        )
    return record


def remember_answers(project: Project, decision: Decision, backend: Backend) -> None:
    """A question `pyve build` asked is asked once: its answer goes into pyve.toml, as
    init's do (added to the file, the rest of it left as it is)."""
    record = config_record(decision, backend)
    answers = {k: record[k] for k in decision.answered if k in record}
    if answers:
        project.add_config(answers)
        said = ", ".join(f"{k} = {json.dumps(v)}" for k, v in answers.items())
        ui.info(f"Recorded your answer in pyve.toml ({said}); edit it to change it.")


def installer_choice(project: Project, backend: Backend) -> str:
    """PYVE_INSTALLER > pyve.toml `installer` > the backend's default (installers.choose)."""
    from pyve import installers

    return installers.choose(os.environ.get("PYVE_INSTALLER"), project.config.get("installer"),
                             backend.installers)


def load_backend(name: str) -> Backend:
    try:
        return get_backend(name)
    except ImportError as exc:  # a dependency is missing or broken (py-rattler for conda)
        raise PyveError(f"the {name} backend cannot load: {first_line(exc)}",
                        hint="reinstall pyve-env with its dependencies, or use `--backend venv`"
                        ) from None


def existing_env(project: Project, args: Namespace) -> tuple[Decision, Backend]:
    """The decision and backend of an environment that must already exist (run, shell-hook)."""
    decision = make_decision(project, args, interactive=False)
    backend = load_backend(decision.backend)
    env_dir = backend.env_dir(project, decision)
    refuse_path_separator(str(env_dir))  # its bin on PATH would split: another python runs
    if not (env_dir / "bin").is_dir():
        if project.state_dir.is_dir():  # init (or a build) ran, and did not finish
            raise PyveError(f"no environment at {env_dir}: the last build did not finish",
                            hint="run `pyve build` to finish it and see what failed "
                                 "(`pyve -v build` shows every command's output)")
        raise PyveError(f"no environment at {env_dir}", hint="run `pyve init` first")
    return decision, backend


def recorded_decision(project: Project) -> dict[str, object] | None:
    path = project.state_dir / "decision.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def print_stage(result: StageResult) -> None:
    if result.status == "running":
        ui.detail(f"  {result.name}: running ({', '.join(result.reasons)})")
        progress.follow(result)  # a live line on a terminal, else a start line + heartbeat
        return
    progress.follow(result)  # the live line goes before the stage's own line is printed
    why = f"  ({'; '.join(result.reasons)})" if result.reasons else ""
    took = f"  {result.seconds:.1f}s" if result.status in ("ran", "failed") or (
        result.status == "restored" and result.seconds) else ""
    colour = {"ran": "green", "restored": "green", "failed": "red", "stale": "yellow",
              "would run": "yellow"}.get(result.status, "dim")
    status = f"[{colour}]{result.status}[/{colour}]{took}{why}"
    ui.out().print(words.stage_line(result.name, status), highlight=False) \
        if not ui.quiet else None


def summary(results: list[StageResult], stages: list[Stage]) -> None:
    ran = [r for r in results if r.status == "ran"]
    restored = [r for r in results if r.status == "restored"]
    if restored:
        ui.say(f"Restored {len(restored)} of {len(stages)} stages from the remote cache"
               + (f"; ran {len(ran)}." if ran else "."))
    elif not ran:
        ui.say(words.NOTHING_TO_DO)
    else:
        ui.say(f"Ran {len(ran)} of {len(stages)} stages.")
