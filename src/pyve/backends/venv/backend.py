"""The venv backend: .venv from the decided interpreter, pip dependencies, a hashed lock."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from pyve import envstate, health, proc, progress, pythons, ui
from pyve.backends.venv import piplock
from pyve.installers import NAMES, Installer, get_installer, pip, prune
from pyve.backends.base import Stage
from pyve.backends.detect import detect_stage
from pyve.decision import Decision
from pyve.errors import PyveError, UsageError
from pyve.fsutil import atomic_write_text, discard, finish_discards
from pyve.health import Check
from pyve.project import VENV_DIR, Project
from pyve.reqfiles import requirement_files
from pyve.sources import ENV_FILE, group_requirements, install_args, selection

MARKER = f"{VENV_DIR}/.pyve-env.json"  # written last: a half-made venv has none
# Written in .pyve/ before pyve starts making .venv, removed once MARKER is there: a .venv
# left unfinished by a killed build is still pyve's. (Not inside .venv: `uv venv` refuses a
# folder that is not empty.)
CREATING = ".pyve/creating-venv"


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
    except (OSError, ValueError):
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


class VenvBackend:
    name = "venv"
    lock_file = pip.LOCK_FILE
    installers: tuple[str, ...] = NAMES

    installs_env_file_pip = True

    def is_built(self, project: Project, decision: Decision) -> bool:
        return (project.root / MARKER).is_file()

    def choose_python(self, project: Project, asked: str | None
                      ) -> tuple[pythons.Interpreter, str, str | None]:
        return pythons.choose(project, asked)

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

    def doctor_checks(self, project: Project, decision: Decision,
                      deep: bool = False) -> list[Check]:
        env = self.env_dir(project, decision)
        return [health.interpreter(env, venv=True),
                health.venv_matches_lock(project.root, env, pip.LOCK_FILE),
                health.venv_lock_fresh(project.root, list(decision.pip_sources), pip.LOCK_FILE)]

    def lock_status(self, project: Project, decision: Decision,
                    platforms: list[str] | None) -> dict[str, str | None]:
        raise UsageError("lock --check applies to conda-lock.yml (the micromamba backend)")

    def lock_for(self, project: Project, decision: Decision, platforms: list[str]) -> None:
        raise UsageError("--platform applies to conda locks (the micromamba backend)")

    def env_dir(self, project: Project, decision: Decision) -> Path:
        return project.root / VENV_DIR

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
        # the last stage that installs owns what the env holds (envstate.py)
        def holds() -> dict[str, str]:
            return envstate.distributions(env)

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
        inputs = requirement_files(project.root, sources)  # with their -r/-c includes
        if decision.frozen:
            # the lock is an input: a stale or missing one fails here, before anything is
            # created. The stages stay those of a normal build (a mode is not an input):
            # only their actions differ, so the next command finds everything up to date.
            pip.check_frozen_lock(project.root, sources)
            problems = piplock.lock_problems(project.root, sources, missing_pylock=False)
            if problems:
                raise PyveError(f"--frozen: {problems[0]}",
                                hint="run `pyve build` (or `pyve lock`) without --frozen, "
                                     f"then commit {pip.LOCK_FILE} and {piplock.PYLOCK_FILE}")
            piplock.read_lock(project.root / pip.LOCK_FILE)  # every entry pinned and hashed
        last = "create-env"
        if sources:
            stages.append(Stage(
                name="pip-deps",
                action=lambda: (self.install_frozen if decision.frozen else self.install)(
                    project, decision),
                file_dep=inputs,
                config={"sources": sources, "installer": decision.installer,
                        **selection(decision)},
                # --frozen: the env must be exactly the lock, whatever the stamps say
                checks=[lambda: piplock.mismatch(project.root, self.python(project))]
                if decision.frozen else [],
                after=["create-env"],
                watch=[site], contents=holds,
                fingerprint_config={"sources": sources, "installer": decision.installer,
                                    **selection(decision), "lock": _lock_digest(project)}
                if decision.frozen else None,
            ))
            last = "pip-deps"
        else:  # nothing is installed into the env: it must stay as created
            stages[-1].contents = holds
            stages[-1].watch = [*(stages[-1].watch or []), site]
        pylock = project.root / piplock.PYLOCK_FILE
        # --frozen never writes it: a clone that did not commit pylock.toml still installs
        no_pylock = (pylock.exists() and not piplock.pylock_is_pyves(pylock)) or (
            decision.frozen and not pylock.exists())
        stages.append(Stage(
            name="freeze",
            action=lambda: self.freeze(project, decision),
            targets=[pip.LOCK_FILE, *([] if no_pylock else [piplock.PYLOCK_FILE])],
            config=self._lock_config(project, decision),
            after=[last],
            missing_reason=f"{pip.LOCK_FILE} missing",
        ))
        return stages

    def install(self, project: Project, decision: Decision) -> str:
        """Install the sources; the stamp records their digests for the lock's inputs line."""
        inputs = pip.inputs_text(project.root, list(decision.pip_sources))
        self._ensure_pip(project, decision)
        # what was installed or changed behind pyve's back goes; the install puts back
        # what the requirements ask for
        self._restore(project, decision)
        installer = self.installer(decision)
        installer.install(self.python(project), install_args(
            project.root, decision.pip_sources, decision.extras, decision.groups),
            project.root, "pip install", record_hashes=True)
        # pip only adds: take out what a removed requirement left behind
        prune.sync(self.python(project), project.root, self._roots(project, decision),
                   installer)
        return json.dumps({"id": uuid.uuid4().hex, "inputs": inputs})

    def install_frozen(self, project: Project, decision: Decision) -> str:
        """--frozen: the env becomes exactly the lock (hashes checked), then the project."""
        sources = list(decision.pip_sources)
        self._ensure_pip(project, decision)
        installer = self.installer(decision)
        piplock.install_exact(self.python(project), project.root, installer)
        for path in piplock.local_paths(project.root / pip.LOCK_FILE):
            installer.install(self.python(project), ["--no-deps", *path], project.root,
                              f"pip install {' '.join(path)}")
        if "pyproject.toml" in sources:  # the lock leaves editables out: the project itself
            installer.install(self.python(project), ["--no-deps", "-e", "."], project.root,
                              "pip install -e .")
        # the same stamp as a normal install: the lock's sources are the sources now
        return json.dumps({"id": uuid.uuid4().hex,
                           "inputs": pip.inputs_text(project.root, sources)})

    def _restore(self, project: Project, decision: Decision) -> None:
        """Take out what was installed or changed behind pyve's back (envstate.py)."""
        changed = envstate.outside(envstate.load(project.root, "pip-deps"),
                                   envstate.distributions(self.env_dir(project, decision)))
        prune.restore(self.python(project), project.root, changed,
                      self._roots(project, decision), self.installer(decision))

    def _roots(self, project: Project, decision: Decision) -> set[str] | None:
        """The names the sources ask for directly (None: one cannot be named)."""
        files = [s for s in decision.pip_sources if s != ENV_FILE]
        lines = group_requirements(project.root, decision.groups)
        if ENV_FILE in decision.pip_sources:
            from pyve.backends.conda.envfile import load_envfile

            lines += load_envfile(project.path(ENV_FILE)).pip_specs
        from_files = prune.requirement_names(project.root, files)
        from_lines = prune.names_in_lines(lines, project.root)
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
        sources = list(decision.pip_sources) if decision else []
        if decision is not None and decision.frozen:
            return  # the lock is the input (checked fresh before the build): never rewritten
        inputs = self.locked_inputs(project, sources)
        if decision is None:
            piplock.write_lock(self.python(project), project.root, sources, inputs=inputs)
            return
        key = self._lock_key(project, decision)
        failed = _recorded_failure(project, key)
        if failed is not None:  # solved before from the same inputs: the same answer, at once
            raise failed
        try:
            notes = piplock.write_lock(self.python(project), project.root, sources,
                                       inputs=inputs, extras=decision.extras,
                                       groups=decision.groups,
                                       covers=self._coverage(project, decision))
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
        try:
            stamp = json.loads((project.root / ".pyve/stamps/pip-deps").read_text("utf-8"))
            installed = str(stamp["inputs"])
        except (OSError, ValueError, KeyError, TypeError):
            raise PyveError(f"the last build did not finish installing {', '.join(sources)}; "
                            "there is nothing sound to lock", hint=hint) from None
        if installed != now:
            changed = pip.changed_inputs(installed, now)
            raise PyveError(f"{', '.join(changed) or 'the sources'} changed since the "
                            "environment was built; a lock now would not match it", hint=hint)
        return installed


LOCK_FAILURE = ".pyve/lock-failure.json"  # the last unsolvable lock, by its inputs


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
