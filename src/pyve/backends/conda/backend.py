"""The micromamba backend: a conda prefix under .pyve/envs/<hash>/, built in-process by
py-rattler, pip packages on top, and a multi-platform conda-lock.yml.

Stages: detect -> conda-solve -> create-env -> pip-deps -> conda-lock.
- conda-solve decides the host's package set (from a usable conda-lock.yml, else a solve) and
  writes it to `.pyve/envs/<hash>.solution.json`; it re-runs only when the conda part of
  environment.yml (channels, specs) changes, so a pip-only edit never re-solves.
- create-env installs exactly that set; its target is a marker written last, so an
  interrupted install is never taken for a finished one.
- conda-lock solves the other platforms (re-using locked entries whose conda part is
  unchanged) and records the pip packages with their sha256.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from pyve import envstate, health, progress, pythons, testing_hooks, ui
from pyve.backends.base import Stage
from pyve.backends.conda import checks, lockfile
from pyve.backends.conda.byhand import (
    _carry_pip,
    _conda_by_hand,
    _exact,
    _keep_conda_by_hand,
    _kept_roots,
    _pip_by_hand_in,
    _replaced_env,
    _where,
)
from pyve.backends.conda.envfile import (
    EnvFile,
    env_hash,
    load_envfile,
    parse_envfile,
)
from pyve.backends.conda.layout import ENVS_DIR, MARKER
from pyve.backends.conda.lockplan import (
    DEFINITION_KEY,
    ENV_FILE,
    LOCK_FILE,
    _damaged_solution,
    _envfile_from_lock,
    _index_urls,
    _pip_file_args,
    _previous_conda_entries,
    _sha256s,
    _solve,
    _solve_all,
    _urls,
    _with_python,
    _without_none,
)
from pyve.backends.detect import detect_stage
from pyve.decision import Decision
from pyve.engines import engine_name, get_engine, recorded_engine
from pyve.engines import rattler as engine
from pyve.errors import PyveError, UsageError
from pyve.fingerprint import data_digest
from pyve.fsutil import atomic_write_text, discard, finish_discards
from pyve.health import ERROR, OK, WARN, Check
from pyve.installers import distinfo, pip, prune
from pyve.project import Project
from pyve.redact import for_state, without_credentials
from pyve.reqfiles import files_of_pip_section, requirement_files
from pyve.sources import group_requirements, install_args, selection

_SHA256 = re.compile(r"[0-9a-f]{64}")  # custom_metadata in the lock: digest of the conda part


def default_envfile_text(project: Project, python: str | None) -> str:
    """What `pyve init --backend micromamba` writes when the project has no environment.yml."""
    channel = testing_hooks.default_channel() or "conda-forge"
    python_spec = f"python={python}" if python else "python"
    return (f"name: {project.root.name}\nchannels:\n  - {channel}\ndependencies:\n"
            f"  - {python_spec}\n  - pip\n")


class CondaBackend:
    name = "micromamba"
    lock_file = LOCK_FILE
    installers: tuple[str, ...] = ("pip",)  # the pip: section goes through the env's own pip

    def __init__(self) -> None:
        self._records: dict[str, list[Any]] = {}  # solved in this process: no re-query
        # a new env's prefix -> the pip packages installed by hand in the env it replaces
        self._pip_carried: dict[Path, dict[str, str]] = {}

    # --- what defines the environment -------------------------------------------------

    def envfile(self, project: Project, decision: Decision) -> EnvFile:
        path = project.path(ENV_FILE)
        if path.is_file():
            env = load_envfile(path)
        elif project.has(LOCK_FILE):
            env = _envfile_from_lock(project)
        else:
            env = parse_envfile(default_envfile_text(project, decision.python_request), path)
        return _with_python(env, decision.python_request)

    def definition(self, env: EnvFile) -> dict[str, Any]:
        return {"channels": list(env.channels), "specs": list(env.conda_specs),
                "platform": engine.host_platform()}

    def key(self, env: EnvFile) -> str:
        return env_hash(list(env.channels), list(env.conda_specs), engine.host_platform())

    def env_dir(self, project: Project, decision: Decision) -> Path:
        return project.root / ENVS_DIR / self.key(self.envfile(project, decision))

    def relocate(self, project: Project, decision: Decision,
                 moves: list[tuple[str, str]], links: dict[str, str]) -> None:
        from pyve.backends.conda.relocate import relocate

        relocate(self.env_dir(project, decision), *moves[0], links)

    def lock_stage(self) -> str:
        return "conda-lock"

    def run_env(self, project: Project, decision: Decision) -> dict[str, str]:
        env = self.envfile(project, decision)
        prefix = str(project.root / ENVS_DIR / self.key(env))
        return {**env.variables, "CONDA_PREFIX": prefix,
                "CONDA_DEFAULT_ENV": env.name or project.root.name,
                "PATH": f"{prefix}/bin{os.pathsep}"}

    # --- what the commands ask ------------------------------------------------------------

    installs_env_file_pip = False  # the env file's pip: section is installed with the env
    reads_project_lock = False  # its pip: section and the project go through conda's pip

    def choose_python(self, project: Project, asked: str | None, may_install: bool = True
                      ) -> tuple[pythons.Interpreter, str, str | None]:
        # conda brings its own Python: the request becomes a conda spec, no host interpreter
        asked = asked or project.config.get("python")
        interp = pythons.Interpreter(str(asked or ""), "", "conda")
        why = f"asked for {asked}" if asked else f"from {self.definition_file(project)}"
        return interp, why, str(asked) if asked else None

    def leftovers(self, project: Project) -> list[Path]:
        envs = project.root / ENVS_DIR
        if not envs.is_dir() or envs.is_symlink() or envs.parent.is_symlink():
            return []  # never reached through a symlink
        return sorted(envs.iterdir())

    def foreign_env(self, project: Project) -> str | None:
        return None  # its envs live under .pyve/: only pyve puts anything there

    def adopt(self, project: Project, force: bool, yes: bool, interactive: bool) -> None:
        return None  # its prefix lives under .pyve/: only pyve puts anything there

    def is_built(self, project: Project, decision: Decision) -> bool:
        return (self.env_dir(project, decision) / MARKER).is_file()

    def prepare(self, project: Project, decision: Decision) -> list[str]:
        """A conda project needs a definition: with neither environment.yml nor
        conda-lock.yml, start one (python + pip) that the user then edits -- it is theirs
        from now on."""
        if project.has(ENV_FILE) or project.has(LOCK_FILE):
            return []
        atomic_write_text(project.path(ENV_FILE),
                          default_envfile_text(project, decision.python_request))
        return [f"Created {ENV_FILE} (python and pip); add your conda packages there."]

    def definition_files(self, project: Project) -> list[str]:
        return [f for f in (ENV_FILE, LOCK_FILE) if project.has(f)]

    def reminders(self, project: Project, decision: Decision) -> list[str]:
        return []

    @staticmethod
    def lock_only(project: Project) -> bool:
        """conda-lock.yml without environment.yml: the lock is the definition, installed as
        it is (its pip packages too) and never rewritten."""
        return not project.has(ENV_FILE) and project.has(LOCK_FILE)

    def definition_file(self, project: Project) -> str:
        return LOCK_FILE if self.lock_only(project) else ENV_FILE

    def doctor_checks(self, project: Project, decision: Decision,
                      deep: bool = False) -> list[Check]:
        env_dir = self.env_dir(project, decision)
        kept = self.by_hand(project, decision)
        found = [health.interpreter(env_dir, venv=False), checks.pip_over_conda(env_dir),
                 checks.conda_files_intact(env_dir, deep),
                 health.distributions_intact(env_dir, deep, skip=_conda_distributions(env_dir)),
                 checks.shared_with_cache(env_dir, engine.default_cache_dir()),
                 health.by_hand(kept, _kept_roots(env_dir, kept), _where(decision))]
        lock_path = project.path(LOCK_FILE)
        if not lock_path.is_file():
            found.append(Check("lock", WARN, f"{LOCK_FILE} is missing", "run `pyve lock`"))
            return found
        try:
            lock = lockfile.read_lock(lock_path)
            found.append(checks.conda_matches_lock(lock, LOCK_FILE, env_dir,
                                                   engine.host_platform(), kept))
            if project.has(ENV_FILE):
                found.append(checks.conda_lock_fresh(
                    self.lock_status(project, decision, None), LOCK_FILE))
            else:
                found.append(Check("lock-fresh", OK,
                                   f"{LOCK_FILE} is the definition: installed as it is"))
        except PyveError as exc:
            found.append(Check("lock", ERROR, exc.message, exc.hint))
        return found

    def lock_status(self, project: Project, decision: Decision,
                    platforms: list[str] | None) -> dict[str, str | None]:
        env = self.envfile(project, decision)
        platforms = self.lock_platforms(project, env, platforms)
        if self.lock_only(project):  # nothing it could be stale against
            return dict.fromkeys(platforms)
        return lockfile.check_fresh(project.path(LOCK_FILE), env, platforms)

    def lock_for(self, project: Project, decision: Decision, platforms: list[str]) -> None:
        if self.lock_only(project):
            raise UsageError(f"nothing to lock: {LOCK_FILE} is this project's definition, "
                             "installed as it is")
        self.write_lock(project, self.envfile(project, decision), decision, platforms)

    # --- the stages ---------------------------------------------------------------------

    def stages(self, project: Project, decision: Decision) -> list[Stage]:
        engine_name(project.config.get("conda_engine"))  # a bad value fails now
        conda_engine = recorded_engine(project.config.get("conda_engine"))
        env = self.envfile(project, decision)
        key = self.key(env)
        prefix = f"{ENVS_DIR}/{key}"
        solution = f"{ENVS_DIR}/{key}.solution.json"
        definition = self.definition(env)
        # in pyve's records: a channel's credentials digested, never written (redact.py)
        identity = for_state(definition)
        if decision.frozen:
            self.check_frozen(project, env)  # before anything is created
        stages = [
            detect_stage(project, decision),
            Stage(
                name="conda-solve",
                action=lambda: self.solve(project, env, decision, solution),
                targets=[solution],
                config=definition,
                checks=[lambda: _damaged_solution(project.path(solution)),
                        lambda: self.lock_moved(project, env, solution)],
                watch=[LOCK_FILE, solution],
                after=["detect"],
                missing_reason="no solution for this environment yet",
            ),
            Stage(
                name="create-env",
                action=lambda: self.create(project, env, decision, key, solution),
                file_dep=[solution],
                targets=[f"{prefix}/{MARKER}"],
                config={"engine": conda_engine},
                checks=[lambda: self.prefix_moved(project, key),
                        # --exact: what was installed by hand makes the env be made again
                        *([lambda: self.exact_reason(project, decision,
                                                     pip_only=False)] if _exact(decision) else [])],
                watch=[f"{prefix}/{MARKER}", f"{prefix}/conda-meta"],
                after=["conda-solve"],
                missing_reason="environment missing",
                contents=lambda: envstate.without_by_hand(
                    project.root / prefix, envstate.conda_packages(project.root / prefix)),
                env_identity=identity,  # the prefix is the definition's hash
            ),
        ]
        last = "create-env"
        # what the pip: section pulls in (-r/-c includes, local projects): pip-deps installs
        # it and conda-lock resolves it
        section_files = files_of_pip_section(project.root, env.pip_specs, env.path.parent,
                                             f"{ENV_FILE} pip: section")
        if self.has_pip_stage(env, decision):
            python = project.root / prefix / "bin" / "python"
            stages.append(Stage(
                name="pip-deps",
                action=lambda: self.pip_install(project, env, decision, python),
                file_dep=list(dict.fromkeys([
                    *requirement_files(project.root, decision.pip_sources), *section_files])),
                config={"pip": list(env.pip_specs), "sources": list(decision.pip_sources),
                        **selection(decision)},
                after=["create-env"],
                watch=[f"{prefix}/lib/python*/site-packages"],
                contents=lambda: envstate.without_by_hand(
                    project.root / prefix, envstate.distributions(project.root / prefix)),
                env_identity=identity,
                checks=[lambda: self.exact_reason(project, decision, pip_only=True)]
                if _exact(decision) else [],
            ))
            last = "pip-deps"
        else:  # no pip stage: create-env also answers for the env's Python distributions
            stages[-1].contents = lambda: envstate.without_by_hand(project.root / prefix, {
                **envstate.conda_packages(project.root / prefix),
                **envstate.distributions(project.root / prefix)})
            stages[-1].watch = [*(stages[-1].watch or []), f"{prefix}/lib/python*/site-packages"]
        # a lock-only project: the lock is the input, not an output. --frozen keeps the
        # stage (a mode is not an input: the next build must find it up to date) but never
        # rewrites the lock.
        if project.has(ENV_FILE):
            stages.append(Stage(
                name="conda-lock",
                action=lambda: None if decision.frozen else self.write_lock(
                    project, env, decision, None),
                file_dep=[ENV_FILE, *section_files],
                targets=[LOCK_FILE],
                config={"platforms": self.lock_platforms(project, env, None)},
                # an edit of the lock makes it stale (--frozen checked it before the build)
                checks=[] if decision.frozen else [
                    lambda: lockfile.changed_outside(project.path(LOCK_FILE))],
                watch=[LOCK_FILE],
                after=[last],
                missing_reason=f"{LOCK_FILE} missing",
            ))
        return stages

    @staticmethod
    def has_pip_stage(env: EnvFile, decision: Decision) -> bool:
        return bool(env.pip_specs or decision.pip_sources or decision.groups)

    def check_frozen(self, project: Project, env: EnvFile) -> None:
        """--frozen: the lock must exist and be fresh for the host, pip part included."""
        hint = f"run `pyve lock` (or `pyve build` without --frozen), then commit {LOCK_FILE}"
        if not project.has(LOCK_FILE):
            raise PyveError(f"--frozen: {LOCK_FILE} is missing", hint=hint)
        host = engine.host_platform()
        if project.has(ENV_FILE):
            why = lockfile.check_fresh(project.path(LOCK_FILE), env, [host],
                                       content=False).get(host)
            if why:
                raise PyveError(f"--frozen: {LOCK_FILE} is stale for {host}: {why}", hint=hint)
        # every package installed from the lock is checked against its sha256: an entry
        # without one (or one YAML read as a number) would install unchecked
        for entry in lockfile.lock_packages(lockfile.read_lock(project.path(LOCK_FILE)), host):
            sha256 = (entry.get("hash") or {}).get("sha256") \
                if isinstance(entry.get("hash"), dict) else None
            if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
                raise PyveError(f"--frozen: {LOCK_FILE}: {entry.get('name')} "
                                f"{entry.get('version')} ({host}) has no valid sha256",
                                hint=f"run `pyve lock` to re-lock, then commit {LOCK_FILE}")
        # then the lock as a whole: an entry appended or edited is not what pyve wrote (the
        # lock of a lock-only project is the user's definition: edits are theirs)
        edited = lockfile.changed_outside(project.path(LOCK_FILE)) \
            if project.has(ENV_FILE) else None
        if edited:
            raise PyveError(f"--frozen: {edited}", hint=hint)

    # --- conda-solve ----------------------------------------------------------------------

    def locked_entries(self, project: Project, env: EnvFile) -> tuple[list[dict], str | None]:
        """The lock's host entries when the lock fits this env, else ([], why not)."""
        path = project.path(LOCK_FILE)
        if not path.is_file():
            return [], None
        lock = lockfile.read_lock(path)
        host = engine.host_platform()
        entries = lockfile.lock_packages(lock, host, "conda")
        if not entries:
            return [], f"{LOCK_FILE} has no packages for {host}"
        if not project.has(ENV_FILE):
            return entries, None
        edited = lockfile.changed_outside(path)
        if edited:  # never installed: solved again from environment.yml, then re-locked
            return [], edited
        fresh = lockfile.check_fresh(path, env, [host]).get(host) is None
        custom = (lock.get("metadata") or {}).get("custom_metadata") or {}
        if fresh or custom.get(DEFINITION_KEY) == data_digest(self.definition(env)):
            return entries, None
        return [], f"{LOCK_FILE} is stale for {host}: {ENV_FILE} changed since it was locked"

    def solve(self, project: Project, env: EnvFile, decision: Decision, solution: str) -> None:
        host = engine.host_platform()
        entries, stale = self.locked_entries(project, env)
        if stale and decision.frozen:
            raise PyveError(stale, hint="run `pyve lock` to re-lock, or build without --frozen")
        if not entries and decision.frozen:
            raise PyveError(f"--frozen needs {LOCK_FILE}", hint="run `pyve lock` first")
        if stale:
            ui.info(f"  {stale}; solving again")
        if not entries:
            records = _solve(env, host)
            entries = [lockfile.conda_entry(r, host, env.category) for r in records]
            self._records[solution] = records
        # without credentials (an older lock's are dropped too), and private all the same
        entries = [{**e, "url": without_credentials(str(e.get("url")))} if "url" in e else e
                   for e in entries]
        atomic_write_text(project.path(solution), json.dumps(entries, indent=1) + "\n",
                          mode=0o600)

    def lock_moved(self, project: Project, env: EnvFile, solution: str) -> str | None:
        """A teammate's re-lock (same conda definition, other packages) must reach the env."""
        path = project.path(solution)
        if not path.is_file() or not project.has(LOCK_FILE) or _damaged_solution(path):
            return None  # (a damaged solution says so itself)
        entries, stale = self.locked_entries(project, env)
        if stale or not entries:
            return None
        current = json.loads(path.read_text(encoding="utf-8"))
        if _urls(entries) != _urls(current) or _sha256s(entries) != _sha256s(current):
            return f"{LOCK_FILE} changed"  # (a hash edited by hand: install it again)
        return None

    # --- create-env -------------------------------------------------------------------------

    def create(self, project: Project, env: EnvFile, decision: Decision, key: str,
               solution: str) -> None:
        prefix = project.root / ENVS_DIR / key
        entries = json.loads(project.path(solution).read_text(encoding="utf-8"))
        if solution not in self._records:
            progress.update(f"reading {len(entries)} locked packages from their channels")
        records = self._records.get(solution) or engine.records_from_lock(
            entries, engine.host_platform(), env.channels)
        finish_discards(prefix)  # what a build killed while removing an old prefix left
        if self.prefix_moved(project, key) and prefix.is_dir():
            # text files have the old prefix patched in; an install over them would keep them
            discard(prefix)  # renamed aside first: a kill leaves it whole, or gone
        (prefix / MARKER).unlink(missing_ok=True)  # from here on the env is unfinished
        python = prefix / "bin" / "python"
        pip_stage = self.has_pip_stage(env, decision)
        replaced = None if (prefix / "conda-meta").is_dir() else \
            _replaced_env(project, prefix)
        if replaced is not None and not _exact(decision):  # read before pip-deps records anew
            self._pip_carried[prefix] = _pip_by_hand_in(project, replaced)
        put_back: set[str] = set()
        if not pip_stage and python.exists():
            # no pip stage owns the pip packages: rattler syncs conda's, and these go here
            put_back = prune.restore(python, project.root, envstate.changed(
                envstate.load(project.root, "create-env"), envstate.distributions(prefix)))
        # the engine makes the prefix hold exactly its records: add those installed by hand
        # that can stay beside the solution
        records = [*records, *_keep_conda_by_hand(project, env, prefix, entries, records,
                                                  decision)]
        get_engine(engine_name(project.config.get("conda_engine"))).install(
            records, prefix, env.conda_specs, reinstall=_changed_packages(prefix),
            on_progress=progress.update)
        engine.forget_credentials(prefix)  # fetched with them; the env's records keep none
        if not pip_stage:
            self._settle_pip_by_hand(project, decision, python, set(), put_back)
        marker = {"id": uuid.uuid4().hex, "key": key, "packages": data_digest(_urls(entries)),
                  "prefix": os.path.realpath(prefix)}
        atomic_write_text(prefix / MARKER, json.dumps(marker) + "\n")

    def repair(self, project: Project, decision: Decision) -> list[str]:
        """`build --repair`: link again from the package cache exactly the conda packages
        whose files differ from their conda-meta record (sha256), and reinstall the pip
        packages whose files differ from their RECORD; every other package stays as it is."""
        prefix = self.env_dir(project, decision)
        if not (prefix / "conda-meta").is_dir():
            return []
        changed = sorted(checks.conda_changed_files(prefix, deep=True))
        if changed:
            env = self.envfile(project, decision)
            installed = [k.removeprefix("conda:") for k in envstate.conda_packages(prefix)]
            get_engine(engine_name(project.config.get("conda_engine"))).install(
                engine.installed_records(prefix, installed), prefix, env.conda_specs,
                reinstall=changed, on_progress=progress.update)
            engine.forget_credentials(prefix)
        damaged = sorted(distinfo.changed_files(prefix, deep=True,
                                                skip=_conda_distributions(prefix)))
        if damaged:
            versions = distinfo.installed(prefix)
            pip.PIP.repair(prefix / "bin" / "python",
                           {name: versions[name][0] for name in damaged}, project.root)
        return [*changed, *damaged]

    # --- what the user installed by hand ----------------------------------------------------

    def _solution_entries(self, project: Project, decision: Decision) -> list[dict[str, Any]]:
        env = self.envfile(project, decision)
        return self._host_solution(project, env)

    def by_hand(self, project: Project, decision: Decision) -> dict[str, str]:
        env_dir = self.env_dir(project, decision)
        if not (env_dir / MARKER).is_file():
            return {}
        kept = _conda_by_hand(env_dir, self._solution_entries(project, decision))
        return {**kept, **self._pip_by_hand(project, decision, env_dir / "bin" / "python")}

    def _pip_by_hand(self, project: Project, decision: Decision,
                     python: Path) -> dict[str, str]:
        extras: dict[str, set[str]] = {}
        roots = self._pip_roots(project, decision, extras)
        if "pyproject.toml" in decision.pip_sources:  # the project's extras, from pyve.toml
            for name in prune.requirement_names(project.root, ["pyproject.toml"]) or ():
                extras.setdefault(name, set()).update(decision.extras)
        return prune.by_hand(python, roots, extras)

    def by_hand_roots(self, project: Project, decision: Decision,
                      kept: dict[str, str]) -> list[str]:
        return _kept_roots(self.env_dir(project, decision), kept)

    def exact_reason(self, project: Project, decision: Decision, pip_only: bool) -> str | None:
        kept = self.by_hand(project, decision)
        pip_stage = self.has_pip_stage(self.envfile(project, decision), decision)
        names = [n.removeprefix("conda:") for n in kept
                 if (n.startswith("conda:") or not pip_stage) != pip_only]
        return prune.by_hand_reason(names) if names else None

    def name_by_hand(self, project: Project, decision: Decision, say: bool) -> bool:
        env_dir = self.env_dir(project, decision)
        env = self.envfile(project, decision)
        named = envstate.by_hand(env_dir)
        recorded = {**(envstate.load(project.root, "create-env") or {}),
                    **((envstate.load(project.root, "pip-deps") or {})
                       if self.has_pip_stage(env, decision) else {})}
        now = {**envstate.conda_packages(env_dir), **envstate.distributions(env_dir)}
        if not set(envstate.added(recorded, now)) - set(named):
            return False  # the usual case: two listings
        kept = self.by_hand(project, decision)
        if not set(kept) - set(named):
            return False
        if say:
            self._name_kept(env_dir, kept, named, indent="", where=_where(decision))
        return not say

    def _name_kept(self, env_dir: Path, kept: dict[str, str], named: dict[str, str],
                   indent: str, where: str) -> None:
        """Say which packages installed by hand stay, once: those no build has named."""
        new = {n: v for n, v in kept.items() if n not in named}
        if new:
            ui.info(indent + prune.kept_line(new, _kept_roots(env_dir, new), where))
        envstate.save_by_hand(env_dir, kept)

    def _pip_roots(self, project: Project, decision: Decision,
                   extras: dict[str, set[str]] | None = None) -> set[str] | None:
        """The pip names environment.yml's pip: section and the pip sources ask for;
        `extras` collects the extras they ask for."""
        env = self.envfile(project, decision)
        if not self.has_pip_stage(env, decision):
            return set()
        from_files = prune.requirement_names(project.root, list(decision.pip_sources), extras)
        from_env = prune.names_in_lines(
            [*env.pip_specs, *group_requirements(project.root, decision.groups)],
            env.path.parent, extras)
        return None if from_files is None or from_env is None else from_files | from_env

    def _settle_pip_by_hand(self, project: Project, decision: Decision, python: Path,
                            roots: set[str] | None, put_back: set[str]) -> None:
        """After the install: --exact removes the pip packages installed by hand; then
        every package kept by hand is named once."""
        prefix = python.parent.parent
        carried = self._pip_carried.pop(prefix, {})
        if carried and not _exact(decision):
            _carry_pip(project, python, carried, _where(decision))
        kept = self._pip_by_hand(project, decision, python) if roots is not None else {}
        if _exact(decision) and kept:
            gone = prune.uninstall(python, project.root, set(kept), pip.PIP)
            ui.info(f"  removed {', '.join(f'{n} {kept[n]}' for n in gone)}: installed by "
                    f"hand, not in {_where(decision)} ({_exact(decision)})")
            kept = {}
        broken = prune.unmet(python, kept, put_back)  # put back what their install changed
        for name in prune.uninstall(python, project.root, set(broken), pip.PIP):
            ui.info(f"  removed {name} {kept.pop(name)}: installed by hand; {broken[name]} "
                    f"(add it to {_where(decision)} to have it resolved with the rest)")
        entries = self._solution_entries(project, decision)
        self._name_kept(prefix, {**_conda_by_hand(prefix, entries), **kept},
                        envstate.by_hand(prefix), indent="  ", where=_where(decision))

    def prefix_moved(self, project: Project, key: str) -> str | None:
        """The env's marker is damaged, or names another prefix (the project was moved or
        copied): the env must be made again."""
        prefix = project.root / ENVS_DIR / key
        try:
            marker = json.loads((prefix / MARKER).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None  # the missing target says it
        except (OSError, ValueError, RecursionError):
            marker = None
        if not isinstance(marker, dict):
            return "the environment's pyve marker is damaged"
        made_at = marker.get("prefix")
        if isinstance(made_at, str) and made_at != os.path.realpath(prefix):
            return f"the environment was made at {made_at}: the project moved"
        return None

    # --- pip-deps ---------------------------------------------------------------------------

    def pip_install(self, project: Project, env: EnvFile, decision: Decision,
                    python: Path) -> None:
        if not python.exists():
            if self.lock_only(project):
                raise PyveError(f"{LOCK_FILE} has pip packages but no python for "
                                f"{engine.host_platform()}",
                                hint="re-lock with python among the conda packages")
            raise PyveError(f"the environment has no python ({python})",
                            hint=f"add `python` to the dependencies in {ENV_FILE}")
        roots = self._pip_roots(project, decision)
        put_back = prune.restore(python, project.root, envstate.changed(
            envstate.load(project.root, "pip-deps"), envstate.distributions(python.parent.parent)))
        if env.pip_specs and (decision.frozen or self.lock_only(project)):
            # the locked pip packages, by URL and sha256: no resolve
            locked = lockfile.pip_requirements(lockfile.read_lock(project.path(LOCK_FILE)),
                                               engine.host_platform())
            pip.install(python, ["--no-deps", *locked], project.root,
                        f"pip install ({LOCK_FILE} pip packages)")
        elif env.pip_specs:
            # conda runs the pip: lines from the env file's folder; so do we.
            pip.install(python, _pip_file_args(env.pip_specs), env.path.parent,
                        f"pip install ({ENV_FILE} pip: section)")
        if decision.pip_sources or decision.groups:
            pip.install(python, install_args(project.root, decision.pip_sources,
                                             decision.extras, decision.groups),
                        project.root, "pip install")
        if not decision.frozen:  # pip only adds: take out what a removed line left behind
            prune.sync(python, project.root, roots)
        self._settle_pip_by_hand(project, decision, python, roots, put_back)

    # --- conda-lock -------------------------------------------------------------------------

    def lock_platforms(self, project: Project, env: EnvFile,
                       requested: list[str] | None) -> list[str]:
        """--platform > platforms: in environment.yml > the lock's own > the defaults."""
        if requested or env.platforms:
            return lockfile.lock_platforms(env, requested)
        path = project.path(LOCK_FILE)
        if path.is_file():
            try:
                platforms = (lockfile.read_lock(path).get("metadata") or {}).get("platforms")
            except PyveError:
                platforms = None
            if platforms:
                return list(platforms)
        return list(lockfile.DEFAULT_PLATFORMS)

    def write_lock(self, project: Project, env: EnvFile, decision: Decision,
                   requested: list[str] | None) -> None:
        platforms = self.lock_platforms(project, env, requested)
        definition = data_digest(self.definition(env))
        previous = _previous_conda_entries(project, definition)
        host = engine.host_platform()
        host_solution = self._host_solution(project, env)  # conda-solve's: not solved twice
        solved = _solve_all(env, [p for p in platforms if p not in previous
                                  and not (p == host and host_solution)])
        packages: list[dict[str, Any]] = []
        for platform in platforms:
            if platform in previous:
                packages += previous[platform]
            elif platform == host and host_solution:
                packages += host_solution
            else:
                packages += [lockfile.conda_entry(r, platform, env.category)
                             for r in solved[platform]]
        packages += self._pip_entries(project, env, platforms)
        document = lockfile.lock_document(env, platforms, packages, project.root,
                                          custom=_without_none({
                                              DEFINITION_KEY: definition,
                                              lockfile.PIP_INPUTS_KEY: lockfile.pip_inputs(env)}))
        lockfile.write_document(project.path(LOCK_FILE), document)

    def _host_solution(self, project: Project, env: EnvFile) -> list[dict[str, Any]]:
        path = project.root / ENVS_DIR / f"{self.key(env)}.solution.json"
        if path.is_file():
            return list(json.loads(path.read_text(encoding="utf-8")))
        return []

    def _pip_entries(self, project: Project, env: EnvFile,
                     platforms: list[str]) -> list[dict[str, Any]]:
        """The pip packages as the env resolves them, with sha256; pure-Python wheels are
        locked for every platform, others only for the host."""
        if not env.pip_specs:
            return []
        python = project.root / ENVS_DIR / self.key(env) / "bin" / "python"
        if not python.exists():
            raise PyveError("the pip packages are resolved in the environment, which is missing",
                            hint="run `pyve build` first")
        resolved = pip.resolve(python, _pip_file_args(env.pip_specs), env.path.parent)
        local = _index_urls(resolved, python)
        if local:  # one line: the committed lock names this machine's folder
            more = f" (+{len(local) - 1} more)" if len(local) > 1 else ""
            ui.info(f"  note: {LOCK_FILE}: {local[0]}{more} is locked from a local find-links "
                    "folder (a file:// URL a teammate cannot fetch); no index pip's "
                    "configuration names has that file: publish it to one, or serve the "
                    "folder as an index (index-url / extra-index-url)")
        host = engine.host_platform()
        entries = []
        for item in resolved:
            pure = item["url"].endswith("-none-any.whl")
            for platform in platforms:
                if pure or platform == host:
                    entries.append(lockfile.pip_entry(item, platform, env.category))
        return entries

    # --- pyve add -----------------------------------------------------------------------

    def resolve(self, project: Project, decision: Decision) -> dict[str, str]:
        """The conda specs solved for the host; the pip: section by pip's dry run in the
        env, when the env for these specs exists (an edit of the pip: section keeps it)."""
        env = self.envfile(project, decision)
        found = {f"conda:{r.name.normalized}": str(r.version)
                 for r in _solve(env, engine.host_platform())}
        prefix = project.root / ENVS_DIR / self.key(env)
        python = prefix / "bin" / "python"
        if env.pip_specs and python.exists() and pip.has_pip(prefix):
            found.update(envstate.distributions(prefix))
            found.update(pip.would_install(python, _pip_file_args(env.pip_specs),
                                           env.path.parent))
        return found


def _conda_distributions(prefix: Path) -> set[str]:
    """The Python distributions conda packages installed (their files are conda's to check)."""
    owned = checks.conda_files(prefix)
    return {name for name, (_version, info) in distinfo.installed(prefix).items()
            if f"{info.relative_to(prefix).as_posix()}/METADATA" in owned}


def _changed_packages(prefix: Path) -> list[str]:
    """Installed packages whose files no longer match their records (edited in the env, or
    in the package cache they are hardlinked from): linked again, not kept as they are."""
    if not (prefix / "conda-meta").is_dir():
        return []
    changed = sorted(checks.conda_changed_files(prefix, deep=True))
    if changed:
        ui.info(f"  linking again {', '.join(changed)}: files changed since installed")
    return changed
