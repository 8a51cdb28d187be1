"""What the user installed by hand in a conda env, beyond what the backend's stages: which
of the installed packages the user asked for (not what they pulled in), carrying the pip ones
into a new env at their versions, solving the conda ones again beside a new solution, and the
--exact/--frozen flag that removes them. CondaBackend (backend.py) calls these from its
create-env and pip-deps stages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyve import envstate, progress, ui
from pyve.backends.conda.envfile import EnvFile, conda_spec_name
from pyve.backends.conda.lockplan import ENV_FILE
from pyve.decision import Decision
from pyve.engines import rattler as engine
from pyve.errors import PyveError
from pyve.installers import pip, prune
from pyve.project import Project


def _kept_roots(env_dir: Path, kept: dict[str, str]) -> list[str]:
    """The packages installed by hand that no other of them needs (conda's by their
    conda-meta `depends`, pip's by their metadata): what the user asked for."""
    pip_kept = {n: v for n, v in kept.items() if not n.startswith("conda:")}
    return _conda_roots(env_dir, [n for n in kept if n.startswith("conda:")]) + (
        prune.kept_roots(env_dir / "bin" / "python", pip_kept) if pip_kept else [])


def _conda_roots(env_dir: Path, keys: list[str]) -> list[str]:
    """Those of `keys` (conda:name) that no other of them depends on."""
    names = {key.removeprefix("conda:") for key in keys}
    needed: set[str] = set()
    for path in (env_dir / "conda-meta").glob("*.json") if names else ():
        own = path.name[: -len(".json")].rsplit("-", 2)[0]
        if own not in names:
            continue
        try:
            depends = json.loads(path.read_text(encoding="utf-8")).get("depends") or []
        except (OSError, ValueError, AttributeError, RecursionError):
            continue  # a damaged record: it needs nothing we can tell
        needed.update({conda_spec_name(d) for d in depends if isinstance(d, str)} - {own})
    return [k for k in keys if k.removeprefix("conda:") not in needed] or list(keys)


def _pip_by_hand_in(project: Project, replaced: Path) -> dict[str, str]:
    """The pip packages installed by hand in the env a new one replaces (those the user
    asked for, not what they pulled in): what is there that pyve's last record of that env
    (pip-deps', else create-env's) does not list, nor needs."""
    stage = "pip-deps" if envstate.load_identity(project.root, "pip-deps") == \
        envstate.load_identity(project.root, "create-env") else "create-env"
    record = envstate.load(project.root, stage)
    python = replaced / "bin" / "python"
    if record is None or not python.exists():
        return {}
    kept = prune.by_hand(python, {n for n in record if not n.startswith("conda:")})
    return {name: kept[name] for name in prune.kept_roots(python, kept)} if kept else {}


def _carry_pip(project: Project, python: Path, carried: dict[str, str], where: str) -> None:
    """The pip packages installed by hand in the env this new one replaces, installed at
    their versions with everything already here pinned (they never change what the build
    installed); one that cannot be is named with pip's reason."""
    prefix = python.parent.parent
    now = envstate.distributions(prefix)
    wanted = {n: v for n, v in carried.items() if n not in now}
    if not wanted:
        return
    if not pip.has_pip(prefix):
        ui.info(f"  not carried over {', '.join(f'{n} {v}' for n, v in wanted.items())}: "
                "installed by hand in the old environment; the new one has no pip")
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pyve-carry-") as tmp:
        pins = Path(tmp) / "constraints.txt"
        pins.write_text("".join(f"{n}=={v}\n" for n, v in sorted(now.items())),
                        encoding="utf-8")

        def install(names: list[str]) -> None:
            pip.install(python, ["-c", str(pins), *(f"{n}=={wanted[n]}" for n in names)],
                        project.root, "pip install (installed by hand in the old environment)")

        try:
            install(sorted(wanted))
        except PyveError:
            for name in sorted(wanted):
                try:
                    install([name])
                except PyveError as exc:
                    ui.info(f"  removed {name} {wanted[name]}: installed by hand; it cannot be "
                            f"installed in the new environment: {exc.message} (add it to "
                            f"{where} to have it resolved with the rest)")


def _solve_again(env: EnvFile, pinned: list[Any], names: list[str]) -> list[Any]:
    """The records that `names` (packages installed by hand, by name only) add to `pinned`
    (the new solution and what stays beside it, which the solve must not change): all of
    them in one solve, else each that fits on its own. [] when none fits."""
    host = engine.host_platform()
    have = {r.name.normalized for r in pinned}

    def added(wanted: list[str]) -> list[Any] | None:
        try:
            found = engine.solve(env.channels, [*env.conda_specs, *wanted], host,
                                 pinned=pinned)
        except PyveError:
            return None
        return [r for r in found if r.name.normalized not in have]

    progress.update(f"solving {len(names)} packages installed by hand again")
    together = added(names) if names else []
    if together is not None:
        return together
    fitted: list[str] = []
    result: list[Any] = []
    for name in names:
        more = added([*fitted, name])
        if more is not None:
            fitted.append(name)
            result = more
    return result


def _exact(decision: Decision) -> str:
    """The flag that makes a build remove what was installed by hand ('' for neither)."""
    return "--frozen" if decision.frozen else "--exact" if decision.exact else ""


def _where(decision: Decision) -> str:
    return " or ".join([ENV_FILE, *decision.pip_sources])
