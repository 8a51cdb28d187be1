"""The build as a doit task graph: stages -> doit tasks, run under a lock, with reasons.

doit decides what is stale (file_dep digests, targets, uptodate checks); this module only
translates its reasons into words a user reads ("requirements.txt changed") and keeps the
state in .pyve/state.json.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyve import envstate, redact, testing_hooks
from pyve.backends.base import Stage
from pyve.errors import PyveError, is_users, os_error
from pyve.fingerprint import data_digest, file_state
from pyve.fsutil import atomic_write_text
from pyve.project import Project
from pyve.state import AtomicJsonDB, XxhashChecker, repair_state_dir
from pyve.taskengine import (
    Dependency,
    DependencyStatus,
    JSONCodec,
    Runner,
    Stream,
    TaskControl,
    TaskFailed,
    dict_to_task,
)

STAMP_DIR = ".pyve/stamps"
STATE_FILE = ".pyve/state.json"
INPUTS_CHANGED = "inputs changed"  # what doit saw, where none of its reasons is the user's


def stamp_path(stage: str) -> str:
    return f"{STAMP_DIR}/{stage}"


@dataclass
class StageResult:
    name: str
    status: str  # ran | up to date | failed | stale | not run
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.name, "status": self.status, "reasons": self.reasons,
                "seconds": round(self.seconds, 3)}


class ConfigCheck:
    """Like doit's config_changed, but says what changed ("python 3.11.7 -> 3.11.9")."""

    KEY = "_pyve_config"

    def __init__(self, config: dict[str, Any]) -> None:
        # stored in .pyve/state.json and said in reasons: a URL's password only as a digest
        self.config = redact.for_state(config)
        self.reason: str | None = None

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        task.value_savers.append(lambda: {self.KEY: self.config})
        old = values.get(self.KEY)
        if old is None:
            self.reason = None
            return True  # first run: the file_dep/target reasons speak
        if old == json.loads(json.dumps(self.config)):
            return True
        changed = [k for k in sorted({*old, *self.config}) if old.get(k) != self.config.get(k)]
        self.reason = "; ".join(f"{k} {old.get(k)} -> {self.config.get(k)}" for k in changed)
        return False


class CheckAdapter:
    """A backend Check as a doit uptodate callable that never raises (doit would exit 3)."""

    def __init__(self, check: Any, contents: bool = False) -> None:
        self.check = check
        self.reason: str | None = None
        self.contents = contents  # the check of what the env holds (contents_check)

    def __call__(self) -> bool:
        try:
            self.reason = self.check()
        except Exception as exc:  # noqa: BLE001 - a broken check means "rebuild", never a crash
            self.reason = f"check failed: {exc}"
        return self.reason is None


class ReasonDependency(Dependency):  # type: ignore[misc]
    """Always collect doit's reasons, and keep them on the task for the reporter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # doit forgets a stage that failed: only an empty state file means a first build.
        self.first_build = not getattr(self.backend, "_db", None)

    def get_status(self, task: Any, tasks_dict: Any, get_log: bool = False) -> DependencyStatus:
        is_new = not self._in(task.name)
        status = super().get_status(task, tasks_dict, get_log=True)
        task.pyve_reasons = explain(task, status, is_new)
        if is_new and not self.first_build and task.pyve_reasons[:1] == ["first build"]:
            task.pyve_reasons[0] = "no successful run on record (new, failed or interrupted)"
        return status


def explain(task: Any, status: DependencyStatus, is_new: bool) -> list[str]:
    if status.status == "up-to-date":
        return []
    if is_new:  # plus what a check found (e.g. a .venv pyve did not make)
        found = [utd.reason for utd, _a, _k in status.reasons.get("uptodate_false", [])
                 if isinstance(utd, CheckAdapter) and utd.reason]
        return ["first build", *found]
    reasons: list[str] = []
    # This stage's last run, or an upstream's run since, changed the env itself: what the
    # env holds differs from the record, but not because of anything outside pyve.
    by_pyve = any(dep.startswith(STAMP_DIR + "/") for dep in [
        *status.reasons.get("changed_file_dep", []), *status.reasons.get("missing_file_dep", []),
        *status.reasons.get("missing_target", [])])
    for utd, _args, _kwargs in status.reasons.get("uptodate_false", []):
        if getattr(utd, "reason", None) and not (
                by_pyve and getattr(utd, "contents", False)
                and utd.reason.startswith(envstate.OUTSIDE)):
            reasons.append(utd.reason)
    for target in status.reasons.get("missing_target", []):
        if target.startswith(STAMP_DIR):
            reasons.append("never completed")
        else:
            reasons.append(task.pyve_missing_reason)
    if status.reasons.get("checker_changed"):
        reasons.append("state format changed")
    for dep in status.reasons.get("changed_file_dep", []):
        if dep.startswith(STAMP_DIR + "/"):
            reasons.append(f"{dep.rsplit('/', 1)[1]} re-ran")
        elif not dep.startswith(".pyve/"):  # pyve's own files: the stamp reason says it
            reasons.append(f"{dep} changed")
    for dep in status.reasons.get("added_file_dep", []):
        if not dep.startswith(".pyve/"):
            reasons.append(f"{dep} added")
    for dep in status.reasons.get("removed_file_dep", []):
        if not dep.startswith(".pyve/"):
            reasons.append(f"{dep} removed")
    for dep in status.reasons.get("missing_file_dep", []):
        if dep.startswith(STAMP_DIR + "/"):  # upstream began and did not finish
            reasons.append(f"{dep.rsplit('/', 1)[1]} did not complete")
        elif not dep.startswith(".pyve/"):  # pyve's own: the stage that writes it speaks
            reasons.append(f"{dep} missing")
    if any(r.startswith(envstate.NEW_ENVIRONMENT) for r in reasons):
        # a new env is a missing one: said once
        reasons = [r for r in reasons if r != task.pyve_missing_reason]
    return list(dict.fromkeys(reasons)) or [INPUTS_CHANGED]


class Reporter:
    """Collects results and prints one line per stage as it goes."""

    def __init__(self, on_line: Any) -> None:
        self.on_line = on_line
        self.results: dict[str, StageResult] = {}
        self.errors: dict[str, Exception] = {}
        self._started: dict[str, float] = {}

    def initialize(self, tasks: Any, selected: Any) -> None: ...
    def get_status(self, task: Any) -> None: ...
    def skip_ignore(self, task: Any) -> None: ...
    def teardown_task(self, task: Any) -> None: ...
    def complete_run(self) -> None: ...

    def execute_task(self, task: Any) -> None:
        self._started[task.name] = time.perf_counter()
        self.on_line(StageResult(task.name, "running", getattr(task, "pyve_reasons", [])))

    def add_success(self, task: Any) -> None:
        seconds = time.perf_counter() - self._started.get(task.name, time.perf_counter())
        result = StageResult(task.name, "ran", getattr(task, "pyve_reasons", []), seconds)
        self.results[task.name] = result
        self.on_line(result)

    def add_failure(self, task: Any, fail: Any) -> None:
        seconds = time.perf_counter() - self._started.get(task.name, time.perf_counter())
        if task.name not in self.errors:
            self.errors[task.name] = PyveError(f"stage {task.name} failed: {fail.get_msg()}")
        result = StageResult(task.name, "failed", getattr(task, "pyve_reasons", []), seconds)
        self.results[task.name] = result
        self.on_line(result)

    def skip_uptodate(self, task: Any) -> None:
        result = StageResult(task.name, "up to date")
        self.results[task.name] = result
        self.on_line(result)

    def cleanup_error(self, exception: Any) -> None: ...

    def runtime_error(self, msg: str) -> None:
        self.errors["runtime"] = PyveError(msg)


def _to_task(stage: Stage, known: set[str], errors: dict[str, Exception],
             before_run: dict[str, Any] | None = None) -> Any:
    stamp = stamp_path(stage.name)
    after = [name for name in stage.after if name in known]
    # A stage run alone (`pyve lock`) still records its upstream stamps, so the next full
    # build sees the same inputs and does not re-run it.
    alone = [a for a in stage.after if a not in known and Path(stamp_path(a)).is_file()]
    file_dep = [*stage.file_dep, *(stamp_path(a) for a in [*after, *alone])]

    def action() -> Any:
        if before_run is not None:  # the inputs as this stage reads them (XxhashChecker)
            for dep in file_dep:
                try:
                    before_run[dep] = file_state(dep)
                except OSError:
                    before_run.pop(dep, None)
        try:
            testing_hooks.pause(stage.name, "before")
            # Until the new stamp is written the stage's output is unfinished (a re-made venv
            # has lost its packages): drop the old stamp first, so a crash in between reads as
            # "never completed" next time -- never as up to date, nor as an unchanged upstream.
            Path(stamp).unlink(missing_ok=True)
            text = stage.action()
            if stage.contents is not None:  # what the env holds now (envstate.py)
                envstate.save(Path("."), stage.name, stage.contents(), stage.env_identity)
            # done, but neither stamp nor state says so yet
            testing_hooks.pause(stage.name, "after")
            atomic_write_text(Path(stamp), text if text is not None else uuid.uuid4().hex)
        except PyveError as exc:
            errors[stage.name] = exc
            return TaskFailed(exc.message)
        except Exception as exc:  # noqa: BLE001 - a full disk, or a bug: raised again after
            errors[stage.name] = exc  # doit, for the one-line handler (never doit's traceback)
            return TaskFailed(str(exc))
        return None

    task = dict_to_task({
        "name": stage.name,
        "actions": [action],
        "file_dep": file_dep,
        "targets": [*stage.targets, stamp],
        "task_dep": after,
        "uptodate": [ConfigCheck(stage.config), *(CheckAdapter(c) for c in stage.checks),
                     *([CheckAdapter(contents_check(stage), contents=True)]
                       if stage.contents else [])],
        "verbosity": 2,  # our actions capture their subprocesses' output themselves
    })
    task.pyve_missing_reason = stage.missing_reason
    return task


def contents_check(stage: Stage) -> Any:
    """The env still holds what this stage left in it, as it was (run from the project
    root); what was added since is the user's (envstate.py)."""

    def check() -> str | None:
        assert stage.contents is not None
        recorded = envstate.load(Path("."), stage.name)
        made_for = envstate.load_identity(Path("."), stage.name)
        identity = json.loads(json.dumps(stage.env_identity))  # as the record holds it
        if recorded is not None and made_for is not None and identity is not None \
                and made_for != identity:
            return envstate.new_environment(made_for, identity)
        if recorded is None:
            # never recorded (a pyve before this check, or a damaged record): the stage runs
            # once more to record it; a stage that never ran says so through its stamp
            return ("no record of what the environment holds"
                    if Path(stamp_path(stage.name)).is_file() else None)
        now = stage.contents()
        # only what pyve put there counts: a package added by hand is the user's
        return envstate.describe(recorded, now) if envstate.changes(recorded, now) else None

    return check


@contextmanager
def in_dir(path: Path) -> Iterator[None]:
    """doit stores paths as given: run from the project root with relative paths."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _dependency(project: Project, create: bool = True) -> ReasonDependency:
    if create:  # `plan` (pyve status) only reads: it must not create .pyve/
        project.state_dir.mkdir(mode=0o755, exist_ok=True)
        repair_state_dir(project.state_dir)
    return ReasonDependency(
        AtomicJsonDB, str(project.root / STATE_FILE), checker_cls=XxhashChecker,
        codec_cls=JSONCodec,
    )


def run_stages(
    project: Project, stages: list[Stage], on_line: Any, force: bool = False
) -> list[StageResult]:
    """Run the stages (those up to date are skipped); raise PyveError on the first failure."""
    reporter = Reporter(on_line)
    known = {s.name for s in stages}
    before_run: dict[str, Any] = {}
    with in_dir(project.root):
        tasks = [_to_task(s, known, reporter.errors, before_run) for s in stages]
        dep = _dependency(project)
        dep.checker.before_run = before_run
        control = TaskControl(tasks)
        control.process([s.name for s in stages])
        runner = Runner(dep, reporter, always_execute=force, stream=Stream(2))
        runner.run_all(control.task_dispatcher())
    if reporter.errors:
        error = next(iter(reporter.errors.values()))
        if is_users(error):  # a full disk, a read-only folder: the user's to fix
            error = os_error(error)  # type: ignore[arg-type]
        if isinstance(error, PyveError):  # what did run, for `build --json` to report
            error.results = [reporter.results.get(s.name, StageResult(s.name, "not run"))
                             for s in stages]
        raise error
    return [reporter.results.get(s.name, StageResult(s.name, "not run")) for s in stages]


def plan(project: Project, stages: list[Stage]) -> list[StageResult]:
    """What a build would do, and why, without running anything."""
    known = {s.name for s in stages}
    results: list[StageResult] = []
    stale: set[str] = set()
    with in_dir(project.root):
        tasks = [_to_task(s, known, {}) for s in stages]
        dep = _dependency(project, create=False)
        tasks_dict = {t.name: t for t in tasks}
        for stage, task in zip(stages, tasks, strict=True):
            status = dep.get_status(task, tasks_dict)
            reasons = list(task.pyve_reasons)
            if status.status == "error":
                reasons = reasons or [status.get_error_message() or "inputs missing"]
            upstream = [a for a in stage.after if a in stale]
            if status.status != "up-to-date" or upstream:
                stale.add(stage.name)
                if upstream and reasons in ([], [INPUTS_CHANGED]):  # e.g. its output is
                    reasons = [f"after {upstream[0]}"]  # missing: the input of this one
                results.append(StageResult(stage.name, "stale", reasons))
            else:
                results.append(StageResult(stage.name, "up to date"))
    return results


def fingerprints(project: Project, stages: list[Stage]) -> dict[str, str]:
    """Per-stage content fingerprints for CI cache keys: inputs' content, portable settings,
    the platform, and upstream fingerprints. No mtimes and no absolute paths, so a clone of
    the project elsewhere (or on another machine of the same platform) gets the same keys."""
    from pyve.fingerprint import input_digest, platform_tag

    result: dict[str, str] = {}
    made: set[str] = set()  # what an earlier stage writes: its key stands for it
    for stage in stages:
        files = {}
        for dep in stage.file_dep:
            if dep in made:
                continue
            path = project.root / dep
            files[dep] = input_digest(path) if path.is_file() else None
        made.update(stage.targets)
        result[stage.name] = data_digest({
            "stage": stage.name,
            "files": files,
            "config": portable_config(stage),
            "platform": platform_tag(),
            "upstream": [result[a] for a in stage.after if a in result],
        })
    return result


def portable_config(stage: Stage) -> dict[str, Any]:
    """What of a stage's settings is the same on every machine: `fingerprint_config` when
    the backend gives one, else `config` without the keys that name places (`*_path`)."""
    if stage.fingerprint_config is not None:
        return stage.fingerprint_config
    return {k: v for k, v in stage.config.items() if not k.endswith("_path")}


def env_fingerprint(stage_prints: dict[str, str]) -> str:
    """One key for the whole environment: every stage's fingerprint, in order."""
    return data_digest({"stages": stage_prints})


def export_records(project: Project, stages: list[Stage]) -> dict[str, Any]:
    """What pyve recorded of these stages (doit's state, the stamps, what the env holds): the
    part of a remote-cache entry that lets a restored env read as built. Paths in it are
    relative to the project root, so it fits a clone at any path."""
    try:
        state = json.loads((project.root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    names = [s.name for s in stages]
    files: dict[str, str] = {}
    # pyve's own files a stage writes beside the env (decision.json, a conda solution)
    own = [t for s in stages for t in s.targets if _own_file(t)]
    for name in names:
        for path in (stamp_path(name), str(envstate.record_path(Path("."), name)), *own):
            try:
                files[os.path.normpath(path)] = (project.root / path).read_text(encoding="utf-8")
            except OSError:
                continue
    return {"state": {n: state[n] for n in names if n in state}, "files": files}


def _own_file(path: str) -> bool:
    """A file of pyve's in .pyve/ (not in an env under .pyve/envs/<key>/, nor its state)."""
    where = os.path.normpath(path)
    return where.startswith(".pyve/") and where.count("/") <= 2 and ".." not in where \
        and where not in (STATE_FILE, ".pyve/lock")


def import_records(project: Project, records: dict[str, Any]) -> None:
    """Put a remote-cache entry's records in place (export_records), under the project lock
    the build holds: the stages then check themselves against them as after a local build."""
    state_path = project.root / STATE_FILE
    project.state_dir.mkdir(mode=0o755, exist_ok=True)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    stages = records.get("state")
    files = records.get("files")
    if not isinstance(stages, dict) or not isinstance(files, dict):
        raise ValueError("records without state or files")
    (project.root / STAMP_DIR).mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        where = os.path.normpath(str(path))
        if not _own_file(where):
            raise ValueError(f"a record outside .pyve/: {where[:80]}")
        atomic_write_text(project.root / where, str(text))
    state.update(stages)
    atomic_write_text(state_path, json.dumps(state))
