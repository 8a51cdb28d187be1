"""`pyve doctor`: one line per check (✓ / ⚠ / ✗), `--json` for machines.

Exit codes (a contract: tests pin it): 0 when every check is ok or only warns, 1 when any
check is an error. Doctor never changes anything and never prompts.
"""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

from pyve import health, report, ui
from pyve.backends.base import Backend
from pyve.commands.common import load_backend, make_decision
from pyve.decision import Decision
from pyve.errors import EXIT_FAILURE, PyveError
from pyve.health import ERROR, OK, WARN, Check
from pyve.project import Project

SYMBOLS = {OK: ("✓", "green"), WARN: ("⚠", "yellow"), ERROR: ("✗", "red")}


def checks(project: Project, args: Namespace) -> list[Check]:
    try:
        decision = make_decision(project, args, interactive=False, may_install=False)
        backend = load_backend(decision.backend)
        env_dir = backend.env_dir(project, decision)
    except PyveError as exc:  # e.g. an environment.yml that does not parse
        return [Check("project", ERROR, exc.message, exc.hint)]
    found: list[Check] = [Check("inputs", WARN, note) for note in decision.notes]
    if decision.python_version:  # where it came from: pyenv, asdf, uv-managed, PATH, running
        found.append(Check("python", OK, f"python {decision.python_version} from "
                           f"{decision.python_source or 'unknown'}: {decision.python_path}"))
    exists = _env_exists(project, backend, decision, env_dir)
    found.append(exists)
    if exists.status == OK:
        found.append(_stages(project, backend, decision))
        found += backend.doctor_checks(project, decision, deep=bool(getattr(args, "deep", False)))
    found.append(_unused(project, args))
    from pyve.engines.pkgcache import default_cache_dir

    found.append(health.disk(env_dir if exists.status == OK else None, default_cache_dir()))
    found.append(health.dotenv(project.root))
    return found


def _env_exists(project: Project, backend: Backend, decision: Decision, env_dir: Path
                ) -> Check:
    rel = env_dir.relative_to(project.root) if env_dir.is_relative_to(project.root) else env_dir
    if backend.is_built(project, decision):  # the marker it writes last: else half-built
        return Check("environment", OK, f"{decision.backend} environment at {rel}/")
    hint = "run `pyve init`" if not project.has("pyve.toml") else "run `pyve build`"
    what = "is unfinished (an interrupted build?)" if env_dir.exists() else "does not exist"
    return Check("environment", ERROR, f"{decision.backend} environment {rel}/ {what}", hint)


def _stages(project: Project, backend: Backend, decision: Decision) -> Check:
    from pyve.graph import plan

    try:
        results = plan(project, backend.stages(project, decision))
    except PyveError as exc:
        return Check("stages", WARN, f"cannot plan the build: {exc.message}", exc.hint)
    stale = [r for r in results if r.status != "up to date"]
    if stale:
        first = stale[0]
        why = f" ({'; '.join(first.reasons)})" if first.reasons else ""
        return Check("stages", WARN, f"{len(stale)} stage(s) stale: {first.name}{why}",
                     "run `pyve build`")
    return Check("stages", OK, f"all {len(results)} stages up to date")


def _unused(project: Project, args: Namespace) -> Check:
    from pyve.commands.purge import unused_envs

    try:
        items = unused_envs(project, args)
    except PyveError as exc:
        return Check("unused-envs", WARN, exc.message, exc.hint)
    return health.unused([p.name for p in items if p.is_dir()])


def run(args: Namespace) -> int:
    project = Project.load()
    found = checks(project, args)
    failed = any(c.status == ERROR for c in found)
    if getattr(args, "json", False):
        print(json.dumps({"schema": report.SCHEMA, "command": "doctor", "ok": not failed,
                          "checks": [c.as_dict() for c in found]}, indent=2))
        return EXIT_FAILURE if failed else 0
    for check in found:
        if ui.quiet and check.status != ERROR:
            continue  # --quiet: errors only
        symbol, colour = SYMBOLS[check.status]
        ui.out().print(f"[{colour}]{symbol}[/{colour}] {check.name:<12} "
                       + ui.escape(check.message), highlight=False)
        if check.hint:
            ui.out().print(f"  [dim]hint:[/dim] {ui.escape(check.hint)}", highlight=False)
    warned = sum(c.status == WARN for c in found)
    errors = sum(c.status == ERROR for c in found)
    ui.say(f"{errors} error(s), {warned} warning(s)." if errors or warned
           else "Everything looks right.")
    return EXIT_FAILURE if failed else 0
