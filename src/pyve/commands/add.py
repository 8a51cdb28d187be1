"""`pyve add SPEC...` and `pyve remove NAME...`: record a requirement in the file the project
already uses (manifest/), then build as `pyve build` does, so only the stages the edit makes
stale run and the lock follows. A spec that cannot be resolved or installed leaves the
files, the lock and the env as they were."""

from __future__ import annotations

import re
from argparse import Namespace
from dataclasses import dataclass, replace
from pathlib import Path

from pyve import envstate, manifest, ui
from pyve.backends.base import Backend
from pyve.commands.build import build
from pyve.commands.common import asked_of, load_backend, make_decision
from pyve.decision import Decision
from pyve.errors import PyveError, UsageError
from pyve.fsutil import atomic_write_bytes
from pyve.installers import get_installer, pip, prune
from pyve.locking import project_lock
from pyve.manifest import Target
from pyve.project import CONFIG_FILE, Project
from pyve.sources import ENV_FILE

# a name (and extras) with nothing else: it gets the lower bound of what it resolves to
_BARE_PIP = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[^\]]*\])?$")
_BARE_CONDA = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass
class Saved:
    """The bytes of files before the command (None: absent), to put back on failure."""

    root: Path
    files: dict[str, bytes | None]

    @classmethod
    def of(cls, root: Path, names: list[str]) -> Saved:
        return cls(root, {n: (root / n).read_bytes() if (root / n).is_file() else None
                          for n in dict.fromkeys(names)})

    def restore_all(self) -> None:
        """restore(), and what is in the folder's `stamps/` now that was not then goes."""
        self.restore()
        stamps = self.root / "stamps"
        for path in stamps.iterdir() if stamps.is_dir() else []:
            if f"stamps/{path.name}" not in self.files and path.is_file():
                path.unlink()

    def restore(self) -> None:
        for name, data in self.files.items():
            path = self.root / name
            if data is None:
                path.unlink(missing_ok=True)
            elif not path.is_file() or path.read_bytes() != data:
                atomic_write_bytes(path, data)


def _state_files(project: Project) -> list[str]:
    """pyve's record of the last build (doit's state, the stamps): put back with the files
    when the env is as it was, so the next build finds everything up to date again."""
    stamps = project.state_dir / "stamps"
    names = sorted(p.name for p in stamps.iterdir()) if stamps.is_dir() else []
    return ["state.json", "decision.json", *(f"stamps/{n}" for n in names)]


def _contents(backend: Backend, project: Project, decision: Decision) -> dict[str, str]:
    env = backend.env_dir(project, decision)
    return {**envstate.conda_packages(env), **envstate.distributions(env)}


def _key(target: Target, name: str) -> str:
    """The name as Backend.resolve reports it."""
    return name if target.pip or target.file != ENV_FILE else f"conda:{name}"


def _is_bare(target: Target, spec: str) -> bool:
    conda = target.file == ENV_FILE and not target.pip
    return bool((_BARE_CONDA if conda else _BARE_PIP).match(spec.strip()))


def _choose(project: Project, decision: Decision, backend: Backend,
            args: Namespace) -> Target:
    target = manifest.choose(project.root, decision, not backend.installs_env_file_pip,
                             extra=args.extra, group=args.group, pip=args.pip)
    if target.file in decision.skipped_sources:
        raise UsageError(f"{target.file} is not installed: you said no to it (install_deps "
                         f"in {CONFIG_FILE})", hint=f"set install_deps = true in {CONFIG_FILE}, "
                         "or run `pyve build --auto-install-deps`")
    return target


def _installed_specs(project: Project, decision: Decision, backend: Backend
                     ) -> tuple[list[str], list[str]]:
    """What the user installed by hand and asked for (the backend's by_hand, less what those
    pulled in), as `name>=version`: recorded, not frozen with every dependency. Returns
    (pip specs, conda specs); a conda package's version-build is recorded as its version."""
    kept = backend.by_hand(project, decision)
    pip_specs, conda_specs = [], []
    for name in backend.by_hand_roots(project, decision, kept):
        version = kept[name]
        if name.startswith("conda:"):
            bare, version = name.removeprefix("conda:"), version.rpartition("-")[0] or version
            conda_specs.append(f"{bare}>={version}" if version else bare)
        else:
            pip_specs.append(f"{name}>={version}" if version else name)
    return pip_specs, conda_specs


def _select(project: Project, target: Target) -> None:
    """--extra/--group: the extra or group selected in pyve.toml, so the build installs it."""
    for key, name in (("extras", target.place.extra), ("groups", target.place.group)):
        chosen = list(project.config.get(key) or [])
        if name and pip.canonical_name(name) not in map(pip.canonical_name, chosen):
            project.save_config({key: [*chosen, name]})
            ui.say(f"selected {key[:-1]} {name!r} in {CONFIG_FILE}")


def _rebuild_decision(project: Project, args: Namespace, first: Decision,
                      target: Target) -> Decision:
    """The decision for the edited files. A file the command made (there was none) is
    installed without asking: the user just asked for it."""
    project.config = Project.load(project.root).config
    asked = asked_of(args)
    if target.file not in (*first.pip_sources, *first.skipped_sources) and target.pip:
        asked = replace(asked, install_deps=True)
    return make_decision(project, asked)


def run(args: Namespace) -> int:
    project = Project.load()
    specs = [s.strip() for s in args.specs]
    if args.installed and specs:
        raise UsageError("--installed records what is in the env: give no SPEC with it")
    if not args.installed and not specs:
        raise UsageError("nothing to add", hint="name a requirement: `pyve add requests`, "
                         "or `pyve add --installed` for what you installed by hand")
    decision = make_decision(project, args)  # what is wrong with the input: before the lock
    backend = load_backend(decision.backend)
    target = _choose(project, decision, backend, args)
    if args.installed and target.file == ENV_FILE:  # what pip or uv installed: pip lines
        target = replace(target, pip=True)
    for spec in specs:
        manifest.name_of(target, spec)
    manifest.names(project.root, target)  # the file reads
    with project_lock(project.state_dir):
        if not backend.is_built(project, decision):  # the env the spec is resolved in
            build(project, decision)
        edits = [(target, specs)]
        if args.installed:
            pip_specs, conda_specs = _installed_specs(project, decision, backend)
            edits = [(target, pip_specs)]
            if conda_specs and target.file == ENV_FILE:  # `micromamba install`: conda specs
                edits.append((replace(target, pip=False), conda_specs))
            elif conda_specs:
                ui.info(f"not recorded: {', '.join(conda_specs)} (conda packages installed "
                        f"by hand; this project has no {ENV_FILE} to record them in)")
            edits = [(t, s) for t, s in edits if s]
            if not edits:
                ui.say("nothing was installed by hand: the env holds what the sources need")
                return 0
        wanted = [(t, {manifest.name_of(t, s): s for s in specs}) for t, specs in edits]
        files = [f for t, _specs in edits for f in t.files()]
        saved = Saved.of(project.root, [*files, CONFIG_FILE, backend.lock_file])
        state = Saved.of(project.state_dir, _state_files(project))
        before = _contents(backend, project, decision)
        try:
            return _add(project, args, decision, wanted)
        except PyveError as exc:
            _undo(project, args, saved, state, decision, backend, before)
            every = [s for _t, specs in edits for s in specs]
            raise PyveError(f"cannot add {', '.join(every)}: {exc.message} "
                            f"({', '.join(dict.fromkeys(files))} left as it was)",
                            hint=exc.hint, exit_code=exc.exit_code) from None


def _add(project: Project, args: Namespace, first: Decision,
         edits: list[tuple[Target, dict[str, str]]]) -> int:
    """Each target's specs written (a bare name's bound once it is resolved), then one
    build."""
    bare: list[tuple[Target, str, str]] = []
    for target, wanted in edits:
        present = manifest.names(project.root, target)
        for name, spec in wanted.items():
            if _is_bare(target, spec):
                if name in present:
                    ui.say(f"{present[name]} is already in {target.describe()}")
                    continue
                bare.append((target, name, spec))
            manifest.add(project.root, target, spec)
        _select(project, target)
    decision = _rebuild_decision(project, args, first, edits[0][0])
    backend = load_backend(decision.backend)
    versions = backend.resolve(project, decision)  # a spec that cannot be resolved: here
    later = [(t, n, s) for t, n, s in bare if _key(t, n) not in versions]
    for target, name, spec in bare:
        if (target, name, spec) not in later:
            manifest.add(project.root, target, f"{spec}>={versions[_key(target, name)]}")
    for target, wanted in edits:
        _say_added(project, target, wanted,
                   [n for n in wanted if (target, n, wanted[n]) not in later])
    result = build(project, decision)
    if later:  # the env did not exist to resolve in: the bound comes from what was installed
        versions = _contents(backend, project, decision)
        for target, name, spec in later:
            version = versions.get(_key(target, name))
            if version:
                manifest.add(project.root, target, f"{spec}>={version.split('-')[0]}")
            _say_added(project, target, {name: spec}, [name])
        result = build(project, decision)
    return result


def _say_added(project: Project, target: Target, wanted: dict[str, str],
               names: list[str]) -> None:
    written = manifest.names(project.root, target)
    for name in names:
        ui.say(f"added {written.get(name, wanted[name])} to {target.describe()}")


def _undo(project: Project, args: Namespace, saved: Saved, state: Saved, decision: Decision,
          backend: Backend, before: dict[str, str]) -> None:
    """The files back as they were; the env too, when the failed build changed it; pyve's
    record of the last build too, once the env is as that build left it."""
    saved.restore()
    project.config = Project.load(project.root).config
    now = _contents(backend, project, decision)
    added = {name for name in now if name not in before and not name.startswith("conda:")}
    if added:  # what the failed install put in before it stopped
        env = backend.env_dir(project, decision)
        prune.uninstall(env / "bin" / "python", project.root, added,
                        get_installer(decision.installer))
    if _contents(backend, project, decision) == before:
        state.restore_all()
        return
    ui.info("the environment changed before the failure: building it back from the files")
    try:
        build(project, make_decision(project, args, interactive=False))
    except PyveError as exc:
        ui.info(f"could not build it back: {exc.message}")


def run_remove(args: Namespace) -> int:
    project = Project.load()
    decision = make_decision(project, args)  # what is wrong with the input: before the lock
    backend = load_backend(decision.backend)
    target = _choose(project, decision, backend, args)
    names = []
    for text in args.names:
        name = manifest.name_of(target, text.strip())
        present = manifest.names(project.root, target)
        if name not in present and target.file == ENV_FILE and not target.pip:
            pip_section = replace(target, pip=True)  # not a conda spec: a pip line?
            if pip.canonical_name(name) in manifest.names(project.root, pip_section):
                target, name = pip_section, pip.canonical_name(name)
                present = manifest.names(project.root, target)
        if name not in present:
            listed = ", ".join(sorted(present)) or "nothing"
            raise UsageError(f"{text.strip()} is not in {target.describe()} (it has: "
                             f"{listed})", hint="give the name as it is listed there")
        names.append(name)
    with project_lock(project.state_dir):
        saved = Saved.of(project.root, [*target.files(), CONFIG_FILE, backend.lock_file])
        state = Saved.of(project.state_dir, _state_files(project))
        before = _contents(backend, project, decision)
        try:
            for name in names:
                manifest.remove(project.root, target, name)
                ui.say(f"removed {name} from {target.describe()}")
            return build(project, make_decision(project, args))
        except PyveError as exc:
            _undo(project, args, saved, state, decision, backend, before)
            raise PyveError(f"cannot remove {', '.join(names)}: {exc.message} "
                            f"({', '.join(target.files())} left as it was)", hint=exc.hint,
                            exit_code=exc.exit_code) from None
