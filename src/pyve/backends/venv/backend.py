"""The venv backend: .venv from the decided interpreter, pip dependencies, a hashed lock."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from pyve import envstate, health, proc, progress, projectlock, pythons, ui
from pyve.backends.venv import checks, piplock
from pyve.installers import NAMES, Installer, distinfo, get_installer, pip, prune, uv
from pyve.backends.base import Stage
from pyve.backends.detect import detect_stage
from pyve.decision import Decision
from pyve.errors import PyveError, UsageError
from pyve.fsutil import atomic_write_text, discard, finish_discards
from pyve.health import Check
from pyve.project import VENV_DIR, Project
from pyve.reqfiles import scan
from pyve.sources import (ENV_FILE, PIP_TOOLS_SOURCE, REQUIREMENTS, group_requirements,
                          install_args, selection)

# `pyve lock --check`'s one "platform": uv resolves the venv lock for all of them at once
UNIVERSAL = "all platforms"
MARKER = f"{VENV_DIR}/.pyve-env.json"  # written last: a half-made venv has none
# Written in .pyve/ before pyve starts making .venv, removed once MARKER is there: a .venv
# left unfinished by a killed build is still pyve's. (Not inside .venv: `uv venv` refuses a
# folder that is not empty.)
CREATING = ".pyve/creating-venv"
PIP_DEPS_STAMP = ".pyve/stamps/pip-deps"  # graph.stamp_path("pip-deps"): what install returned


def made_by_pyve(project: Project) -> bool:
    """.venv is pyve's own: a real folder with pyve's marker, or one pyve began to make.
    Only such a .venv is ever replaced or deleted without the user's say-so."""
    env = project.root / VENV_DIR
    if env.is_symlink() or not env.is_dir():
        return False
    return (project.root / MARKER).is_file() or (project.root / CREATING).is_file()


def foreign_venv_error(project: Project) -> PyveError:
    """The one line for a .venv pyve did not make (build refuses it; purge keeps it)."""
    env = project.root / VENV_DIR
    cfg = read_pyvenv_cfg(env) if not env.is_symlink() else {}
    version = cfg.get("version") or cfg.get("version_info")
    if env.is_symlink():
        what = "a symlink"
    elif version:
        what = f"a python {version} virtual environment"
    elif env.is_dir():
        what = "a folder that is not a virtual environment"
    else:
        what = "a file"
    replaceable = version and not env.is_symlink()
    return PyveError(
        f"{VENV_DIR} is {what} that pyve did not make; pyve will not replace it",
        hint=("`pyve build --force` replaces it with pyve's environment (asks first; "
              f"`--yes` in CI), or move {VENV_DIR} away") if replaceable
        else f"move {VENV_DIR} away, then run `pyve build`")


def read_pyvenv_cfg(env: Path) -> dict[str, str]:
    cfg: dict[str, str] = {}
    path = env / "pyvenv.cfg"
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                cfg[key.strip()] = value.strip()
    return cfg


def read_marker(path: Path) -> dict[str, Any] | None:
    """An env marker as pyve wrote it, or None when it is unreadable or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("python"), str) or \
            not isinstance(data.get("interpreter"), dict):
        return None
    return data


def interpreter_stamp(path: str) -> dict[str, object]:
    """Identity of an interpreter binary: an upgrade in place changes size or mtime."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    return {"path": real, "size": stat.st_size, "mtime": stat.st_mtime}


def _download_cause(output: str) -> str:
    """uv's `error: Failed to install cpython-3.13.1-...` and the last of its causes (`dns
    error`, `Hash mismatch for ...`): the middle ones only repeat the long download URL."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next((ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")), "")
    causes = [ln.removeprefix("cause: ").rstrip(":") for ln in lines if ln.startswith("cause: ")]
    return f"{first}: {causes[-1]}" if first and causes else first


def _install_python(request: str, missing: pythons.PythonNotFound) -> pythons.Interpreter:
    """A requested Python no interpreter found satisfies: uv installs a managed CPython
    (python-build-standalone) into its own folder, never the project's."""
    try:
        exe = uv.install_python(request)
    except PyveError as exc:
        output = getattr(exc, "output", "")
        # a hash mismatch: proc's own line keeps uv's expected and computed digests
        cause = (exc.message.split(" failed: ", 1)[-1].removeprefix("error: ")
                 if "Hash mismatch" in output else _download_cause(output) or exc.message)
        raise PyveError(f"Python {request} is not installed (found: {missing.versions}), and "
                        f"uv could not install it: {cause}",
                        hint="check the network (or UV_PYTHON_INSTALL_MIRROR / "
                             "UV_PYTHON_DOWNLOADS_JSON_URL), or install it yourself, e.g. "
                             f"`pyenv install {request}`") from None
    version = pythons.probe(exe)
    if version is None:
        raise PyveError(f"Python {request}: uv installed {exe}, but it does not run",
                        hint=f"remove it (`uv python uninstall {request}`) and try again")
    ui.info(f"python {version} (installed by uv: not found on this machine)")
    return pythons.Interpreter(version, exe, "uv-managed")


class VenvBackend:
    name = "venv"
    lock_file = pip.LOCK_FILE
    installers: tuple[str, ...] = NAMES

    installs_env_file_pip = True
    reads_project_lock = True

    def is_built(self, project: Project, decision: Decision) -> bool:
        return (project.root / MARKER).is_file()

    def choose_python(self, project: Project, asked: str | None, may_install: bool = True
                      ) -> tuple[pythons.Interpreter, str, str | None]:
        allowed = may_install and pythons.downloads_allowed(project)
        return pythons.choose(project, asked, install=_install_python if allowed else None)

    def leftovers(self, project: Project) -> list[Path]:
        # pyve's marker: a .venv made by another tool is not ours to delete
        return [project.root / VENV_DIR] if made_by_pyve(project) else []

    def foreign_env(self, project: Project) -> str | None:
        venv = project.root / VENV_DIR
        if not (venv.exists() or venv.is_symlink()) or made_by_pyve(project):
            return None
        what = "a symlink" if venv.is_symlink() else "no pyve marker"
        return (f"Kept {VENV_DIR}/: pyve did not make it ({what}); "
                f"delete it yourself if you no longer need it.")

    def adopt(self, project: Project, force: bool, yes: bool, interactive: bool) -> None:
        """A .venv pyve did not make, with --force: ask, then remove it so the build makes
        pyve's own. Without --force the build's create-env refuses it (create)."""
        venv = project.root / VENV_DIR
        if not force or made_by_pyve(project) or not (venv.exists() or venv.is_symlink()):
            return
        cfg = {} if venv.is_symlink() else read_pyvenv_cfg(venv)
        version = cfg.get("version") or cfg.get("version_info")
        if not version:  # not a virtual environment: a folder or file of the user's, kept
            raise foreign_venv_error(project)
        if not yes:
            if ui.is_ci() or not interactive:
                raise PyveError(f"{VENV_DIR} is a python {version} virtual environment pyve "
                                "did not make; --force replaces it only with --yes here",
                                hint=f"pass --yes as well, or move {VENV_DIR} away")
            question = (f"{VENV_DIR} is a python {version} virtual environment pyve did not "
                        "make. Replace it? Everything in it will be deleted.")
            if not ui.ask_yes_no(question, default=False):
                raise PyveError(f"kept {VENV_DIR}; nothing changed",
                                hint=f"answer y to replace it, or move {VENV_DIR} away")
        discard(venv)
        ui.info(f"Removed {VENV_DIR}/ (python {version}, not made by pyve) to build pyve's own.")

    def prepare(self, project: Project, decision: Decision) -> list[str]:
        return []

    def definition_files(self, project: Project) -> list[str]:
        return []

    def reminders(self, project: Project, decision: Decision) -> list[str]:
        """requirements.in edited since requirements.txt was compiled and installed: the
        edit is not in the env until pip-compile runs (pip-sync's rule: the .txt is what
        gets installed)."""
        if REQUIREMENTS not in decision.pip_sources or not project.has(PIP_TOOLS_SOURCE):
            return []
        try:
            stamp = json.loads((project.root / PIP_DEPS_STAMP).read_text(encoding="utf-8"))
            seen = stamp["compiled"]
        except (OSError, ValueError, KeyError, TypeError):
            return []  # not installed yet, or by an older pyve
        now = _compiled(project)
        if isinstance(seen, dict) and seen != now and seen.get(REQUIREMENTS) == now[REQUIREMENTS]:
            return [f"{PIP_TOOLS_SOURCE} changed since {REQUIREMENTS} was compiled from it: "
                    f"pyve installs {REQUIREMENTS}; run `pip-compile {PIP_TOOLS_SOURCE}` to "
                    "bring the edit in"]
        return []

    def doctor_checks(self, project: Project, decision: Decision,
                      deep: bool = False) -> list[Check]:
        env = self.env_dir(project, decision)
        kept = self.by_hand(project, decision)
        return [health.interpreter(env, venv=True, pyvenv_cfg=read_pyvenv_cfg(env)),
                health.distributions_intact(env, deep),
                checks.venv_matches_lock(project.root, env, pip.LOCK_FILE, kept),
                checks.venv_lock_fresh(project.root, list(decision.input_sources),
                                       pip.LOCK_FILE),
                health.by_hand(kept, self.by_hand_roots(project, decision, kept),
                               _where(decision))]

    def lock_status(self, project: Project, decision: Decision,
                    platforms: list[str] | None) -> dict[str, str | None]:
        """One entry: the lock is universal (uv resolves it for every platform at once),
        fresh when the inputs it records are the files' content now (as doctor says)."""
        if platforms:
            raise UsageError("--platform applies to conda locks (the micromamba backend)",
                             hint=f"{pip.LOCK_FILE} is one lock for every platform")
        check = checks.venv_lock_fresh(project.root, list(decision.pip_sources), pip.LOCK_FILE)
        return {UNIVERSAL: None if check.status == health.OK else check.message}

    def lock_for(self, project: Project, decision: Decision, platforms: list[str]) -> None:
        raise UsageError("--platform applies to conda locks (the micromamba backend)")

    def env_dir(self, project: Project, decision: Decision) -> Path:
        return project.root / VENV_DIR

    def relocate(self, project: Project, decision: Decision,
                 moves: list[tuple[str, str]], links: dict[str, str]) -> None:
        from pyve.backends.venv.relocate import relocate

        relocate(self.env_dir(project, decision), decision.python_path, moves)

    def python(self, project: Project) -> Path:
        return project.root / VENV_DIR / "bin" / "python"

    def lock_stage(self) -> str:
        return "freeze"

    def run_env(self, project: Project, decision: Decision) -> dict[str, str]:
        env_dir = str(self.env_dir(project, decision))
        return {"VIRTUAL_ENV": env_dir, "PATH": f"{env_dir}/bin{os.pathsep}"}

    def stages(self, project: Project, decision: Decision) -> list[Stage]:
        env = self.env_dir(project, decision)
        site = f"{VENV_DIR}/lib/python{decision.python_minor}/site-packages"
        # the last stage that installs owns what the env holds (envstate.py), less what
        # the user installed by hand
        def holds() -> dict[str, str]:
            return envstate.without_by_hand(env, envstate.distributions(env))

        # --exact: a package installed by hand makes the stage that owns the env run
        exact = [lambda: self.exact_reason(project, decision)] \
            if decision.exact or decision.frozen else []

        stages = [
            detect_stage(project, decision),
            Stage(
                name="create-env",
                action=lambda: self.create(project, decision),
                targets=[MARKER],
                config={"python": decision.python_version, "python_path": decision.python_path},
                checks=[lambda: self.check_alive(project, decision)],
                # what check_alive reads besides the marker: the fast path stats these
                watch=[f"{VENV_DIR}/pyvenv.cfg", f"{VENV_DIR}/bin/python",
                       decision.python_path],
                after=["detect"],
                missing_reason="environment missing",
            ),
        ]
        sources = list(decision.pip_sources)
        # with their -r/-c includes, and the project's own lock
        scanned = scan(project.root, decision.input_sources)
        inputs = scanned.files
        if decision.project_lock:
            projectlock.check(project.root, decision.project_lock)
        if decision.frozen:
            # the lock is an input: a stale or missing one fails here, before anything is
            # created. The stages stay those of a normal build (a mode is not an input):
            # only their actions differ, so the next command finds everything up to date.
            pip.check_frozen_lock(project.root, list(decision.input_sources))
            problems = piplock.lock_problems(project.root, list(decision.input_sources),
                                           missing_pylock=False, content=False)
            hint = ("run `pyve build` (or `pyve lock`) without --frozen, "
                    f"then commit {pip.LOCK_FILE} and {piplock.PYLOCK_FILE}")
            if problems:
                raise PyveError(f"--frozen: {problems[0]}", hint=hint)
            piplock.read_lock(project.root / pip.LOCK_FILE)  # every entry pinned and hashed
            # then the lock as a whole: an entry appended or edited is not what pyve wrote
            # (one by an older pyve, without a digest, is installed as it is: doctor says so)
            edited = piplock.changed_outside(project.root, unsealed=False)
            if edited:
                raise PyveError(f"--frozen: {edited}", hint=hint)
        last = "create-env"
        if sources:
            stages.append(Stage(
                name="pip-deps",
                action=lambda: (self.install_frozen if decision.frozen else self.install)(
                    project, decision),
                file_dep=inputs,
                config={"sources": sources, "installer": decision.installer,
                        **selection(decision), **_variables(scanned.variables),
                        **_project_lock_config(decision)},
                # --frozen: the env must be exactly the lock, whatever the stamps say
                checks=[lambda: installed_inputs_damaged(project),
                        *([lambda: piplock.mismatch(project.root, self.python(project))]
                          if decision.frozen else exact)],
                after=["create-env"],
                watch=[site], contents=holds,
                fingerprint_config={"sources": sources, "installer": decision.installer,
                                    **selection(decision), **_project_lock_config(decision),
                                    "lock": _lock_digest(project)}
                if decision.frozen else None,
            ))
            last = "pip-deps"
        else:  # nothing is installed into the env: it must stay as created
            stages[-1].contents = holds
            stages[-1].watch = [*(stages[-1].watch or []), site]
            stages[-1].checks = [*stages[-1].checks, *exact]
        pylock = project.root / piplock.PYLOCK_FILE
        # --frozen never writes it: a clone that did not commit pylock.toml still installs
        no_pylock = (pylock.exists() and not projectlock.is_pyves(pylock)) or (
            decision.frozen and not pylock.exists())
        stages.append(Stage(
            name="freeze",
            action=lambda: self.freeze(project, decision),
            targets=[pip.LOCK_FILE, *([] if no_pylock else [piplock.PYLOCK_FILE])],
            config=self._lock_config(project, decision),
            # an edit of the lock makes it stale (--frozen checked it before the build)
            checks=[] if decision.frozen else [lambda: piplock.changed_outside(project.root)],
            watch=[pip.LOCK_FILE, piplock.PYLOCK_FILE],
            after=[last],
            missing_reason=f"{pip.LOCK_FILE} missing",
        ))
        return stages

    def install(self, project: Project, decision: Decision) -> str:
        """Install the sources; the stamp records their digests for the lock's inputs line."""
        inputs = pip.inputs_text(project.root, list(decision.input_sources))
        self._ensure_pip(project, decision)
        # what pyve installed and was changed behind its back goes; the install puts back
        # what the requirements ask for (what was added by hand stays)
        put_back = self._restore(project, decision)
        installer = self.installer(decision)
        pinned = self._install_project_lock(project, decision, installer)
        scanned = scan(project.root, list(decision.pip_sources))
        stamp_id = uuid.uuid4().hex
        # the project's own --hash lines are checked by installing from its files first: the
        # lock's hashes are the index's, and would install a file the project refuses
        hashed = bool(_hashed_files(project, list(decision.pip_sources)))
        if hashed:
            self._install_sources(project, decision, installer, pinned, scanned)
        # the lock is the plan: resolved once, then installed for this Python from its pins
        needed, local_lines = self._install_from_lock(project, decision, installer, pinned,
                                                      stamp_id)
        if not hashed and (needed is None or local_lines or scanned.projects
                           or "pyproject.toml" in decision.pip_sources):
            # no lock could be solved (the installer says why, or installs and the lock
            # stage fails), or local projects, which the installer builds from the sources
            # (after the lock's pins, nothing else is left to resolve)
            self._install_sources(project, decision, installer, pinned, scanned)
            self._rebuild_local_projects(project, installer, scanned.markers)
        roots = self._roots(project, decision)
        local = self._local_names(project, decision, scanned)
        if needed is not None and local is not None:
            needed |= local
        else:
            needed = None  # a local project without a name: the installed packages tell
        # take out what a removed requirement left behind
        prune.sync(self.python(project), project.root, roots, installer, needed=needed)
        self._settle_by_hand(project, decision, roots, installer, put_back, needed)
        return json.dumps({"id": stamp_id, "inputs": inputs, "compiled": _compiled(project)})

    def _install_sources(self, project: Project, decision: Decision, installer: Installer,
                         pinned: list[str], scanned: Any) -> None:
        """The installer on the sources as written (`pip install -r ...`)."""
        try:
            installer.install(self.python(project), [*install_args(
                project.root, decision.pip_sources, decision.extras, decision.groups), *pinned],
                project.root, "pip install", record_hashes=True,
                local=scanned.projects.values())
        except PyveError as exc:
            hashed = _hashed_files(project, list(decision.pip_sources))
            if pip.is_hash_mismatch(exc.message) and hashed:  # the project's, not pyve's lock
                exc.hint = (f"a downloaded file differs from its --hash in {', '.join(hashed)}: "
                            "if you trust the new file, update that hash (`pip-compile "
                            "--generate-hashes` writes them); " + pip.VERBOSE)
            raise

    def _local_names(self, project: Project, decision: Decision, scanned: Any
                     ) -> set[str] | None:
        """The local projects the sources install (the project itself among them): needed,
        though the lock leaves them out. None: one has no name pyve can read."""
        names = set(scanned.projects.values())
        if "pyproject.toml" in decision.pip_sources:
            names.add(piplock.project_name(project.root))
        if None in names:
            return None
        return {pip.canonical_name(str(n)) for n in names}

    def _install_from_lock(self, project: Project, decision: Decision, installer: Installer,
                           pinned: list[str], stamp_id: str) -> tuple[set[str] | None, bool]:
        """Resolve the universal lock first (the previous lock's pins kept where they still
        fit), install its entries for this Python (hash-checked, only those the env does not
        hold as locked), and keep the resolution for the lock stage (LOCK_PLAN). Returns the
        names the lock says the env needs (None when no lock was solved: the caller installs
        from the sources, as an installer alone would), and whether the lock has entries
        without a hash (local folders, VCS URLs), which the installer installs from the
        sources."""
        plan_path = project.root / LOCK_PLAN
        plan_path.unlink(missing_ok=True)
        python = self.python(project)
        pylock = project.root / piplock.PYLOCK_FILE
        own_pylock = pylock.exists() and not projectlock.is_pyves(pylock)
        progress_of: dict[str, bool] = {}
        needed: set[str] = set()

        def during(entries: list[piplock.LockEntry]) -> None:
            progress_of["started"] = True
            needed.update(piplock.install_entries(python, project.root, entries, installer))
            progress_of["done"] = True

        plan = piplock.Plan(piplock.previous_pins(project.root),
                            (Path(pinned[1]),) if pinned else (), during)
        try:
            resolved = piplock.compile_lock(python, project.root, list(decision.pip_sources),
                                            decision.extras, decision.groups,
                                            self._coverage(project, decision),
                                            pylock=not own_pylock, plan=plan)
        except PyveError:
            if progress_of.get("done"):
                return needed, True  # pylock.toml failed: the lock stage solves it again
            if progress_of.get("started"):
                raise  # the install failed
            return None, False
        local = [line[len(piplock.LOCAL_PREFIX):] for line in resolved[0]
                 if line.startswith(piplock.LOCAL_PREFIX)]
        needed.update(n for n in map(prune.requirement_name, local) if n)
        atomic_write_text(plan_path, json.dumps({
            "id": stamp_id, "key": self._plan_key(project, decision), "own_pylock": own_pylock,
            "body": resolved[0], "pylock": resolved[1]}) + "\n")
        return needed, bool(local)

    def _plan_key(self, project: Project, decision: Decision) -> str:
        """What the planned lock was resolved for, besides the sources (the install's own
        inputs): a change of the lock's settings alone re-locks in the lock stage."""
        from pyve.fingerprint import data_digest

        return data_digest({"config": self._lock_config(project, decision),
                            "sources": list(decision.pip_sources),
                            "extras": list(decision.extras), "groups": list(decision.groups),
                            "project_lock": decision.project_lock})

    def _planned_lock(self, project: Project, decision: Decision
                      ) -> tuple[list[str], str | None] | None:
        """The lock the last install resolved and installed from, when it still holds: the
        same install (its stamp's id), the same settings, and a pylock.toml for a project
        that has none of its own."""
        try:
            plan = json.loads((project.root / LOCK_PLAN).read_text(encoding="utf-8"))
            stamp = json.loads((project.root / PIP_DEPS_STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(plan, dict) or not isinstance(stamp, dict) or \
                plan.get("id") != stamp.get("id") or \
                plan.get("key") != self._plan_key(project, decision):
            return None
        body, pylock_text = plan.get("body"), plan.get("pylock")
        pylock = project.root / piplock.PYLOCK_FILE
        own_pylock = pylock.exists() and not projectlock.is_pyves(pylock)
        if not isinstance(body, list) or not all(isinstance(line, str) for line in body) or \
                (pylock_text is None and not own_pylock) or \
                not isinstance(pylock_text, (str, type(None))):
            return None
        return body, pylock_text

    def repair(self, project: Project, decision: Decision) -> list[str]:
        """`build --repair`: reinstall exactly the distributions whose files differ from
        their RECORD (sha256); returns their names."""
        env = self.env_dir(project, decision)
        damaged = sorted(distinfo.changed_files(env, deep=True))
        if damaged:
            versions = distinfo.installed(env)
            self.installer(decision).repair(self.python(project), {
                name: versions[name][0] for name in damaged}, project.root)
        return damaged

    def _rebuild_local_projects(self, project: Project, installer: Installer,
                                markers: dict[str, str]) -> None:
        """A local project installed without -e (`./lib`) is built again from its sources:
        uv keeps the old build of a folder whose version did not change, so an edit of its
        code would never reach the env. (This stage runs only when an input changed.)"""
        for folder, marker in markers.items():
            path = str((project.root / folder).resolve())
            installer.reinstall(self.python(project), [f"{path} ; {marker}" if marker else path],
                                project.root, f"pip install --force-reinstall {folder}")

    def install_frozen(self, project: Project, decision: Decision) -> str:
        """--frozen: the env becomes exactly the lock (hashes checked), then the project."""
        sources = list(decision.pip_sources)
        self._ensure_pip(project, decision)
        installer = self.installer(decision)
        piplock.install_exact(self.python(project), project.root, installer)
        for path in piplock.local_paths(project.root / pip.LOCK_FILE):
            if path[0] in ("-e", "--editable"):
                installer.install(self.python(project), ["--no-deps", *path], project.root,
                                  f"pip install {' '.join(path)}")
            else:  # built from its sources as they are now (_rebuild_local_projects)
                installer.reinstall(self.python(project), path, project.root,
                                    f"pip install --force-reinstall {' '.join(path)}")
        if "pyproject.toml" in sources:  # the lock leaves editables out: the project itself
            installer.install(self.python(project), ["--no-deps", "-e", "."], project.root,
                              "pip install -e .")
        envstate.save_by_hand(self.env_dir(project, decision), {})  # the env is the lock
        # the same stamp as a normal install: the lock's sources are the sources now
        return json.dumps({"id": uuid.uuid4().hex,
                           "inputs": pip.inputs_text(project.root,
                                                     list(decision.input_sources)),
                           "compiled": _compiled(project)})

    def _install_project_lock(self, project: Project, decision: Decision,
                              installer: Installer) -> list[str]:
        """The project's own lock (projectlock.py): a fresh uv.lock or pylock.toml is
        installed hash-checked first; its pins (or a stale lock's pins that still fit)
        constrain the install that follows. Returns that install's extra arguments."""
        name = decision.project_lock
        if name is None:
            return []
        progress.update(f"reading {name}")
        plan = projectlock.plan(project.root, name, list(decision.pip_sources),
                                decision.extras, decision.groups, self.python(project),
                                decision.python_path, project.state_dir / "project-lock")
        if plan.stale:
            ui.info(f"  note: {plan.stale}")
        if plan.hashed is not None:
            try:
                installer.install(self.python(project), ["--no-deps", "-r", str(plan.hashed)],
                                  project.root, f"pip install ({name}'s pins)",
                                  record_hashes=True)
            except PyveError as exc:
                if "hash" in exc.message.lower():  # the file is not the one the lock names
                    exc.hint = (f"a file differs from the one {name} locked; re-lock "
                                f"({projectlock.refresh_command(project.root, name)}) only "
                                "if you trust the new file")
                raise
            if installer.name == "uv":  # uv writes no report: the file's hashes are what it
                # accepted, so the lock's install that follows does not redo these
                try:
                    entries = piplock.parse_entries(
                        plan.hashed.read_text(encoding="utf-8").splitlines(), name)
                except PyveError:
                    entries = []
                pip.record_hashes(self.python(project), {
                    f"{e.name}=={e.version}": list(e.hashes) for e in entries})
        return ["-c", str(plan.constraints)]

    def _restore(self, project: Project, decision: Decision) -> set[str]:
        """Take out what pyve installed and was changed behind its back (envstate.py), for
        the install to put back; returns those names."""
        changed = envstate.changed(envstate.load(project.root, "pip-deps"),
                                   envstate.distributions(self.env_dir(project, decision)))
        return prune.restore(self.python(project), project.root, changed,
                             self.installer(decision))

    # --- what the user installed by hand ------------------------------------------------

    def by_hand(self, project: Project, decision: Decision) -> dict[str, str]:
        extras: dict[str, set[str]] = {}
        roots = self._roots(project, decision, extras) if decision.pip_sources else set()
        if "pyproject.toml" in decision.pip_sources:  # the project's extras, from pyve.toml
            for name in prune.requirement_names(project.root, ["pyproject.toml"]) or ():
                extras.setdefault(name, set()).update(decision.extras)
        return prune.by_hand(self.python(project), roots, extras)

    def by_hand_roots(self, project: Project, decision: Decision,
                      kept: dict[str, str]) -> list[str]:
        return prune.kept_roots(self.python(project), kept) if kept else []

    def exact_reason(self, project: Project, decision: Decision) -> str | None:
        kept = self.by_hand(project, decision)
        return prune.by_hand_reason(list(kept)) if kept else None

    def name_by_hand(self, project: Project, decision: Decision, say: bool) -> bool:
        env = self.env_dir(project, decision)
        owner = "pip-deps" if decision.pip_sources else "create-env"
        named = envstate.by_hand(env)
        new = set(envstate.added(envstate.load(project.root, owner),
                                 envstate.distributions(env))) - set(named)
        if not new or not self.is_built(project, decision):  # the usual case: one listing
            return False
        kept = self.by_hand(project, decision)
        if not set(kept) - set(named):
            return False
        if say:
            self._name_kept(project, decision, kept, named, indent="")
        return not say

    def _name_kept(self, project: Project, decision: Decision, kept: dict[str, str],
                   named: dict[str, str], indent: str) -> None:
        """Say which packages installed by hand stay, once: those no build has named."""
        new = {n: v for n, v in kept.items() if n not in named}
        if new:
            ui.info(indent + prune.kept_line(new, self.by_hand_roots(project, decision, new),
                                             _where(decision)))
        envstate.save_by_hand(self.env_dir(project, decision), kept)

    def _settle_by_hand(self, project: Project, decision: Decision, roots: set[str] | None,
                        installer: Installer, put_back: set[str],
                        needed: set[str] | None = None) -> None:
        """After an install: --exact removes what was installed by hand; a plain build
        keeps it and names it once. `needed`: what the lock installed says is needed."""
        python = self.python(project)
        env = self.env_dir(project, decision)
        if needed is not None:
            kept = prune.by_hand(python, roots, needed=needed)
        else:
            kept = self.by_hand(project, decision) if roots is not None else {}
        if decision.exact and kept:
            gone = prune.uninstall(python, project.root, set(kept), installer)
            ui.info(f"  removed {', '.join(f'{n} {kept[n]}' for n in gone)}: installed by "
                    f"hand, not in {_where(decision)} (--exact)")
            kept = {}
        broken = prune.unmet(python, kept, put_back)  # put back what their install changed
        for name in prune.uninstall(python, project.root, set(broken), installer):
            ui.info(f"  removed {name} {kept.pop(name)}: installed by hand; {broken[name]} "
                    f"(add it to {_where(decision)} to have it resolved with the rest)")
        self._name_kept(project, decision, kept, envstate.by_hand(env), indent="  ")

    def _roots(self, project: Project, decision: Decision,
               extras: dict[str, set[str]] | None = None) -> set[str] | None:
        """The names the sources ask for directly (None: one cannot be named); `extras`
        collects the extras they ask for."""
        files = [s for s in decision.pip_sources if s != ENV_FILE]
        lines = group_requirements(project.root, decision.groups)
        if ENV_FILE in decision.pip_sources:
            from pyve.backends.conda.envfile import load_envfile

            lines += load_envfile(project.path(ENV_FILE)).pip_specs
        from_files = prune.requirement_names(project.root, files, extras)
        from_lines = prune.names_in_lines(lines, project.root, extras)
        return None if from_files is None or from_lines is None else from_files | from_lines

    def installer(self, decision: Decision) -> Installer:
        return get_installer(decision.installer)

    def _ensure_pip(self, project: Project, decision: Decision) -> None:
        """What the installer needs in the env first (pip, in a venv made without it)."""
        self.installer(decision).prepare(self.env_dir(project, decision),
                                         decision.python_path, decision.python_version)

    def create(self, project: Project, decision: Decision) -> None:
        env = self.env_dir(project, decision)
        finish_discards(env)  # what a build killed while removing an old .venv left
        if env.exists() or env.is_symlink():
            if not made_by_pyve(project):
                raise foreign_venv_error(project)
            progress.update("removing the old environment")
            discard(env)  # renamed aside first: a kill leaves the old env whole, or gone
        creating = project.root / CREATING
        atomic_write_text(creating, f"{os.getpid()}\n")
        progress.update(f"making the venv (python {decision.python_version}, "
                        f"with {decision.installer})")
        try:
            self._make_venv(env, decision, project.root)
        except BaseException:
            if not env.exists():  # nothing made: claim nothing (a .venv made later is not ours)
                creating.unlink(missing_ok=True)
            raise
        marker = {
            "id": uuid.uuid4().hex,
            "python": decision.python_version,
            "interpreter": interpreter_stamp(decision.python_path),
            # scripts' shebangs and activate name this path: a moved or copied project
            # needs a new venv
            "env": os.path.realpath(env),
        }
        atomic_write_text(project.root / MARKER, json.dumps(marker, indent=2) + "\n")
        creating.unlink(missing_ok=True)

    def _make_venv(self, env: Path, decision: Decision, root: Path) -> None:
        self.installer(decision).make_venv(decision.python_path, decision.python_version,
                                           env, root)

    def check_alive(self, project: Project, decision: Decision) -> str | None:
        """The venv's interpreter still runs the Python it was made from."""
        marker_path = project.root / MARKER
        cfg = read_pyvenv_cfg(self.env_dir(project, decision))
        if not marker_path.is_file():
            # the missing target says it; create() then refuses a .venv pyve did not make
            # (it never replaces one silently)
            return None
        marker = read_marker(marker_path)
        if marker is None:
            return f"{MARKER} is damaged"
        if not cfg:  # without it the interpreter is not the env's: imports fail
            return f"{VENV_DIR}/pyvenv.cfg is missing: the environment is damaged"
        made_at = marker.get("env")
        here = os.path.realpath(self.env_dir(project, decision))
        if isinstance(made_at, str) and made_at != here:
            return f"the environment was made at {made_at}: the project moved"
        version = cfg.get("version") or cfg.get("version_info", "")
        if version and version != marker["python"]:
            return f"python {marker['python']} -> {version}"
        if not self.python(project).exists():
            return f"python {marker['python']} of the environment is gone"
        try:
            now = interpreter_stamp(decision.python_path)
        except OSError:
            return f"python {decision.python_version} interpreter missing"
        if now != marker["interpreter"] and now["path"] == marker["interpreter"].get("path"):
            # (another interpreter path: the config check already says "python A -> B")
            return f"python {marker['python']} interpreter changed on disk"
        return None

    def _coverage(self, project: Project, decision: Decision) -> piplock.Coverage:
        return piplock.coverage(project.root, decision.python_version,
                                project.config.get("lock_environments"))

    def _lock_config(self, project: Project, decision: Decision) -> dict[str, Any]:
        return {"installer": decision.installer, **self._coverage(project, decision).config()}

    def _lock_key(self, project: Project, decision: Decision) -> str:
        """The lock stage's inputs: what it is solved from (the install's stamp, a new id per
        install) and its settings. A failure is replayed only while these stay the same."""
        from pyve.fingerprint import data_digest

        upstream = project.root / ".pyve/stamps" / ("pip-deps" if decision.pip_sources
                                                     else "create-env")
        try:
            stamp = upstream.read_text(encoding="utf-8")
        except OSError:
            stamp = ""
        return data_digest({"stamp": stamp, "config": self._lock_config(project, decision),
                            "sources": list(decision.pip_sources),
                            "extras": list(decision.extras), "groups": list(decision.groups)})

    def freeze(self, project: Project, decision: Decision | None = None) -> None:
        if not (project.root / MARKER).is_file():
            raise PyveError("no environment to lock yet", hint="run `pyve build` first")
        sources = list(decision.input_sources) if decision else []
        if decision is not None and decision.frozen:
            return  # the lock is the input (checked fresh before the build): never rewritten
        inputs = self.locked_inputs(project, sources)
        if decision is None:
            piplock.write_lock(self.python(project), project.root, [], inputs=inputs)
            return
        key = self._lock_key(project, decision)
        failed = _recorded_failure(project, key)
        if failed is not None:  # solved before from the same inputs: the same answer, at once
            raise failed
        try:
            notes = piplock.write_lock(self.python(project), project.root,
                                       list(decision.pip_sources),
                                       inputs=inputs, extras=decision.extras,
                                       groups=decision.groups,
                                       covers=self._coverage(project, decision),
                                       resolved=self._planned_lock(project, decision)
                                       if decision.pip_sources else None)
        except PyveError as exc:
            if piplock.unsolvable(exc.message):
                _record_failure(project, key, exc)
            raise
        (project.root / LOCK_FAILURE).unlink(missing_ok=True)
        for note in notes:
            ui.info(f"  note: {note}")

    def locked_inputs(self, project: Project, sources: list[str]) -> str:
        """The sources as pip-deps installed them (its stamp). The lock pins what the env
        holds, so a lock of sources the env was not built from (edited since, or a build
        that failed half-way) would be a lie: refuse it."""
        now = pip.inputs_text(project.root, sources)
        if not sources:
            return now
        hint = "run `pyve build`: it installs the sources and writes the lock"
        installed = installed_inputs(project)
        if installed is None:
            raise PyveError(f"the last build did not finish installing {', '.join(sources)}; "
                            "there is nothing sound to lock", hint=hint)
        if installed != now:
            changed = pip.changed_inputs(installed, now)
            raise PyveError(f"{', '.join(changed) or 'the sources'} changed since the "
                            "environment was built; a lock now would not match it", hint=hint)
        return installed

    def resolve(self, project: Project, decision: Decision) -> dict[str, str]:
        """The installer's dry run in the env (it must exist), over what the env holds."""
        if not self.is_built(project, decision) or not (decision.pip_sources or
                                                         decision.groups):
            return {}
        args = install_args(project.root, decision.pip_sources, decision.extras,
                            decision.groups)
        return {**envstate.distributions(self.env_dir(project, decision)),
                **self.installer(decision).would_install(self.python(project), args,
                                                         project.root)}


def _variables(named: dict[str, str | None]) -> dict[str, Any]:
    """${NAME}s in include paths: another value can mean another file (none: no key, so an
    env built before this reading stays up to date)."""
    return {"variables": named} if named else {}


def installed_inputs(project: Project) -> str | None:
    """The sources' digests as pip-deps installed them (its stamp), or None: never written,
    or damaged."""
    try:
        stamp = json.loads((project.root / PIP_DEPS_STAMP).read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    inputs = stamp.get("inputs") if isinstance(stamp, dict) else None
    return inputs if isinstance(inputs, str) else None


def installed_inputs_damaged(project: Project) -> str | None:
    """pip-deps re-runs when its record is unreadable: the lock is written from it, and a
    damaged one would fail every build until deleted by hand."""
    if not (project.root / PIP_DEPS_STAMP).is_file():
        return None  # never written: the missing stamp says so
    return None if installed_inputs(project) is not None else \
        "pyve's record of the last install is damaged"


def _project_lock_config(decision: Decision) -> dict[str, str]:
    """The project's lock in the install's settings: turning it on or off re-runs the
    install, and the reason names it (`project_lock None -> uv.lock`)."""
    return {"project_lock": decision.project_lock} if decision.project_lock else {}


def _compiled(project: Project) -> dict[str, str | None]:
    """requirements.in and requirements.txt as they are (their digests), for reminders."""
    from pyve.fingerprint import file_digest

    return {name: file_digest(project.path(name)) if project.has(name) else None
            for name in (PIP_TOOLS_SOURCE, REQUIREMENTS)}


def _hashed_files(project: Project, sources: list[str]) -> list[str]:
    """The project's requirements files that pin hashes (`--hash=sha256:...`)."""
    found = []
    inputs = scan(project.root, sources)
    in_trees = {name for files in inputs.trees.values() for name in files}
    for name in inputs.files:
        if name.endswith(".toml") or name in in_trees:
            continue
        try:
            text = (project.root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "--hash" in text:
            found.append(name)
    return found


def _where(decision: Decision) -> str:
    """Where a requirement would have to be for pyve to need it."""
    return " or ".join(decision.pip_sources) or "any requirements file (the project has none)"


LOCK_FAILURE = ".pyve/lock-failure.json"  # the last unsolvable lock, by its inputs
# the lock pip-deps resolved and installed from, for the lock stage to write as it is
LOCK_PLAN = ".pyve/lock-plan.json"


def _record_failure(project: Project, key: str, exc: PyveError) -> None:
    atomic_write_text(project.root / LOCK_FAILURE, json.dumps(
        {"key": key, "message": exc.message, "hint": exc.hint}, indent=2) + "\n")


def _recorded_failure(project: Project, key: str) -> PyveError | None:
    """The error of the last lock that could not be solved from these same inputs."""
    try:
        data = json.loads((project.root / LOCK_FAILURE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return PyveError(f"not solved again (its inputs are unchanged since it failed): "
                     f"{data.get('message')}", hint=data.get("hint"))


def _lock_digest(project: Project) -> str | None:
    """The lock's content, for the fingerprint of a --frozen build (the env is the lock)."""
    from pyve.fingerprint import file_digest

    path = project.root / pip.LOCK_FILE
    return file_digest(path) if path.is_file() else None

