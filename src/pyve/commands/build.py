"""`pyve build`: run the task graph; only stale stages run, each with its reason."""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from pyve import fastpath, progress, remotecache, report, state, ui, words
from pyve.commands.common import (
    load_backend,
    make_decision,
    print_stage,
    remember_answers,
    summary,
)
from pyve.decision import Decision
from pyve.envbins import refuse_path_separator
from pyve.errors import EXIT_FAILURE, PyveError
from pyve.graph import StageResult, env_fingerprint, fingerprints, plan, run_stages
from pyve.locking import project_lock
from pyve.project import Project, ensure_gitignore, gitignore_problem


def header(decision: Decision, bold: bool = True) -> str:
    name = f"[bold]{decision.backend}[/bold]" if bold else decision.backend
    return (f"pyve: {name} backend ({decision.backend_reason}); "
            + (f"python {decision.python_version} ({decision.python_reason})"
               if decision.python_version else f"python {decision.python_reason}")
            + (f"; versions from {decision.project_lock}" if decision.project_lock else ""))


def build(project: Project, decision: Decision, force: bool = False,
          json_out: bool = False, name_kept: bool = True, repair: bool = False) -> int:
    """repair (`--repair`): first reinstall the packages whose files changed in the env.
    name_kept=False (`pyve run`'s build): the packages installed by hand are left for
    the next `pyve build` to name, and the fast path leaves that build to the full path."""
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    env_dir = str(backend.env_dir(project, decision))
    refuse_path_separator(env_dir)  # before anything is made
    if not json_out:
        ui.say(header(decision))
    fastpath.clear(project.root)  # stale from here until this build succeeds
    ensure_gitignore(project.root)
    if gitignore_problem(project.root):  # a folder, say: one line, and the build goes on
        ui.info(str(gitignore_problem(project.root)))
    before = fastpath.stat_all(project.root, fastpath.user_inputs(stages))
    state.damaged_files.clear()
    cache = remotecache.settings(project.config)
    restored = None
    on_line = progress.follow if json_out else print_stage
    if cache is not None:  # before the stage that makes the env runs
        from pyve.commands import remote

        restored = remote.pull(project, decision, backend, stages, cache.url)
        if restored is not None:
            on_line = _restored_lines(restored, on_line)
    if repair:  # first: a stage that fails (a lock that cannot be solved) leaves it done;
        # the stages' records name versions, which a reinstall keeps as they are
        with progress.session():
            repaired = backend.repair(project, decision)
        ui.say(f"repaired {', '.join(repaired)}: files changed since installed, installed "
               "again" if repaired else "nothing to repair: every package's files are as "
               "installed")
    try:
        with progress.session():  # --json: progress on stderr, no stage lines
            results = run_stages(project, stages, on_line, force=force)
    except PyveError as exc:
        if json_out:  # the document still says which stage failed; the error goes to stderr
            _emit(project, decision, stages, exc.results, "build", env_dir,
                  ok=False, error=exc.message)
        raise
    if restored is not None:
        results = [_as_restored(r, restored) for r in results]
    elif cache is not None and cache.push and any(r.status == "ran" for r in results):
        from pyve.commands import remote

        remote.push(project, decision, backend, stages, cache.url)
    for name in state.damaged_files:
        ui.say(f"state file {name} was damaged; rebuilt it (every stage re-checked)")
    reminders = backend.reminders(project, decision)
    for line in reminders:
        ui.info(f"note: {line}")
    unnamed = backend.name_by_hand(project, decision, say=name_kept)
    # A decision that came from a prompt may come out differently next time: no snapshot.
    # (Nor while there is a reminder: the fast path would answer without it.)
    if not decision.frozen and not ui.asked and not reminders:
        fastpath.save(project, decision, stages, results, header=header(decision, bold=False),
                      env_dir=env_dir, run_env=backend.run_env(project, decision),
                      before=before, answers_build=not unnamed)
    if json_out:
        _emit(project, decision, stages, results, "build", env_dir)
        return 0
    summary(results, stages)
    ui.info(words.ENVIRONMENT.format(env_dir))
    return 0


def _as_restored(result: StageResult, restored: Any) -> StageResult:
    """A stage the remote cache's entry made up to date reads `restored` (the time on the
    first: the whole restore's)."""
    if result.status != "up to date" or result.name not in restored.stages:
        return result
    first = result.name == restored.stages[0]
    return StageResult(result.name, "restored", [f"remote cache {restored.url}"],
                       restored.seconds if first else 0.0)


def _restored_lines(restored: Any, on_line: Any) -> Any:
    def line(result: StageResult) -> None:
        on_line(_as_restored(result, restored))

    return line


def _emit(project: Project, decision: Decision, stages: list[Any], results: list[StageResult],
          mode: str, env_dir: str, ok: bool = True, **extra: Any) -> None:
    prints = fingerprints(project, stages)
    report.emit("build", report.from_results(results, prints), ok=ok,
                fingerprint=env_fingerprint(prints), mode=mode, **decision.as_dict(),
                env=env_dir, **extra)


def preview(project: Project, decision: Decision, check: bool, force: bool = False,
            json_out: bool = False) -> int:
    """--dry-run / --check: what a build would run and why; nothing is written."""
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    results = plan(project, stages)
    if force:
        results = [StageResult(r.name, "stale", r.reasons or ["--force"]) for r in results]
    stale = [r for r in results if r.status != "up to date"]
    env_dir = str(backend.env_dir(project, decision))
    if json_out:
        _emit(project, decision, stages, results, "check" if check else "dry-run", env_dir,
              ok=not (check and stale))
    elif check:
        for r in stale:
            ui.info(f"stale: {r.name}: {'; '.join(r.reasons)}")
        for line in backend.reminders(project, decision):
            ui.info(f"note: {line}")
        ui.say(f"{len(stale)} of {len(stages)} stages are stale." if stale
               else words.CHECK_UP_TO_DATE)
    else:
        ui.say(header(decision))
        for r in results:
            print_stage(StageResult(r.name, "would run" if r in stale else r.status, r.reasons))
        ui.say(f"Would run {len(stale)} of {len(stages)} stages." if stale
               else words.NOTHING_TO_DO)
    return EXIT_FAILURE if check and stale else 0


def run(args: Namespace) -> int:
    project = Project.load()
    json_out = bool(getattr(args, "json", False))
    force = bool(getattr(args, "force", False))
    if getattr(args, "dry_run", False) or getattr(args, "check", False):
        decision = make_decision(project, args, interactive=False)
        return preview(project, decision, check=bool(getattr(args, "check", False)),
                       force=force, json_out=json_out)
    with project_lock(project.state_dir):
        decision = make_decision(project, args, interactive=not json_out)
        remember_answers(project, decision, load_backend(decision.backend))
        load_backend(decision.backend).adopt(project, force=force,
                                             yes=bool(getattr(args, "yes", False)),
                                             interactive=not json_out)
        return build(project, decision, force=force, json_out=json_out,
                     repair=bool(getattr(args, "repair", False)))
