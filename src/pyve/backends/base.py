"""The small protocol every backend implements, and the Stage it hands to the task graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pyve import health, pythons
from pyve.decision import Decision
from pyve.project import Project

# A check returns None when fine, else the reason the stage must run ("python 3.11.7 removed").
Check = Callable[[], "str | None"]


@dataclass
class Stage:
    """One step of the build, turned into one doit task by graph.py.

    `file_dep` and `targets` are paths relative to the project root. The graph adds a stamp
    target per stage; stages listed in `after` are ordered first and their stamps become
    file_dep here, so a stage re-runs whenever one it depends on re-ran.
    """

    name: str
    action: Callable[[], str | None]  # returns the stamp text (default: a fresh id)
    file_dep: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    missing_reason: str = "output missing"
    # Paths (relative to the root, or absolute) whose stat the `checks` depend on: the fast
    # path (fastpath.py) trusts a stage with checks only when it may stat these instead.
    # None: the checks cannot be replaced by stats, so no fast no-op for this build.
    watch: list[str] | None = None
    # What the env holds once this stage has installed into it (envstate.py), read back from
    # the disk: recorded after the action, and a change made behind pyve's back makes the
    # stage stale. The directories it lists belong in `watch`.
    contents: Callable[[], dict[str, str]] | None = None
    # Which env `contents` describe, where a backend keeps one env per definition (the
    # conda backend's .pyve/envs/<hash>/): recorded with them, so that a record of another
    # env reads as "new environment: specs changed", never as a change made outside pyve.
    env_identity: dict[str, Any] | None = None
    # What the portable fingerprint hashes instead of `config` (None: `config` without the
    # keys ending in "_path", which name places on this machine, not content).
    fingerprint_config: dict[str, Any] | None = None


class Backend(Protocol):
    """What a backend gives the commands: none of them asks for a backend by name."""

    name: str
    lock_file: str  # the lock it writes, relative to the project root
    # environment.yml's pip: section is one of the pip sources this backend installs
    # (the venv backend's; the conda backend installs it with the env file itself)
    installs_env_file_pip: bool
    # installs the versions of the project's own lock (uv.lock, pdm.lock, ...: projectlock.py)
    reads_project_lock: bool

    def choose_python(self, project: Project, asked: str | None, may_install: bool = True
                      ) -> tuple[pythons.Interpreter, str, str | None]:
        """(interpreter, why, request to record in pyve.toml) for the decision. may_install:
        a command that builds may install a missing interpreter (one that only looks: not)."""
        ...

    # the installers its pip packages can go through, its default first (installers/)
    installers: tuple[str, ...]

    def env_dir(self, project: Project, decision: Decision) -> Path:
        """Where the environment lives."""
        ...

    def stages(self, project: Project, decision: Decision) -> list[Stage]:
        """The build, in order: detect, create-env, ... , the lock stage last."""
        ...

    def lock_stage(self) -> str:
        """The stage `pyve lock` runs alone."""
        ...

    def run_env(self, project: Project, decision: Decision) -> dict[str, str]:
        """Environment variables that activate the env (PATH first, VIRTUAL_ENV, ...)."""
        ...

    def is_built(self, project: Project, decision: Decision) -> bool:
        """The env was finished: the marker written last is there."""
        ...

    def doctor_checks(self, project: Project, decision: Decision,
                      deep: bool = False) -> list[health.Check]:
        """The backend's own health checks: interpreter, env against lock, lock fresh;
        `deep` (doctor --deep): also the slow ones, that read every file of the env."""
        ...

    def lock_status(self, project: Project, decision: Decision,
                    platforms: list[str] | None) -> dict[str, str | None]:
        """`pyve lock --check`: platform -> why the lock is stale, or None when fresh."""
        ...

    def lock_for(self, project: Project, decision: Decision, platforms: list[str]) -> None:
        """`pyve lock --platform P`: write the lock for these platforms."""
        ...

    def prepare(self, project: Project, decision: Decision) -> list[str]:
        """`pyve init`, before the build: write what the backend needs that the project
        lacks (the conda backend starts an environment.yml); returns what to say."""
        ...

    def definition_files(self, project: Project) -> list[str]:
        """The project's files that define the env besides the pip sources."""
        ...

    def reminders(self, project: Project, decision: Decision) -> list[str]:
        """Lines `build` and `build --check` say while they hold (a source edited where it
        is not what gets installed); while there is one, no no-op is answered silently."""
        ...

    def leftovers(self, project: Project) -> list[Path]:
        """The environment(s) pyve built for this backend that are still on disk (what a
        switch to another backend removes). Never what another tool made."""
        ...

    def foreign_env(self, project: Project) -> str | None:
        """A line for an environment in this backend's place that pyve did not make (purge
        keeps it and says so), or None."""
        ...

    def by_hand(self, project: Project, decision: Decision) -> dict[str, str]:
        """What the user installed into the env by hand and the definition does not ask
        for: name -> version (conda packages as conda:name). A build keeps these (named
        once); `--exact` and `--frozen` remove them."""
        ...

    def by_hand_roots(self, project: Project, decision: Decision,
                      kept: dict[str, str]) -> list[str]:
        """Those of `kept` (by_hand) that no other of them needs: what the user asked for."""
        ...

    def name_by_hand(self, project: Project, decision: Decision, say: bool) -> bool:
        """After a build: name the packages installed by hand that no build has named yet,
        and remember them (say=False: only tell). True when some are left unnamed."""
        ...

    def adopt(self, project: Project, force: bool, yes: bool, interactive: bool) -> None:
        """`build --force` / `init --force` before the build: replace an environment in
        pyve's place that pyve did not make (asking first, per switching.py's rule)."""
        ...

    def repair(self, project: Project, decision: Decision) -> list[str]:
        """`build --repair`, after the build: install again exactly the packages whose files
        in the env differ from what their records say (doctor --deep's checks); returns
        their names."""
        ...

    def resolve(self, project: Project, decision: Decision) -> dict[str, str]:
        """`pyve add`, before the build: what a build of the project's files would hold,
        nothing installed: canonical name -> version (a conda package as `conda:NAME`).
        What cannot be told before the env exists is left out; a requirement that cannot
        be resolved raises PyveError."""
        ...

    def relocate(self, project: Project, decision: Decision,
                 moves: list[tuple[str, str]], links: dict[str, str]) -> None:
        """After the remote cache unpacked this backend's env (commands/remote.py): make it
        work where it now is. moves: (old, new) path prefixes, the env's then the project's;
        links: the links out of the env the archive left out (path in the env -> target),
        which the backend makes again only where it knows why they are there.
        Raise PyveError when it cannot be moved (the restore then counts as a miss)."""
        ...
