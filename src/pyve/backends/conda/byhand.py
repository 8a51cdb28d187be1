"""What the user installed by hand in a conda env (beyond the solution and the pip lines):
the conda packages the env has and its solution lacks, which of them stay beside a new
solution (a new env gets those of the env it replaces, solved again when they cannot stay as
they were), which of them the user asked for (not what they pulled in), the pip ones carried
into a new env at their versions, and the --exact/--frozen flag that removes them.
CondaBackend (backend.py) calls these from its create-env and pip-deps stages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyve import envstate, progress, ui
from pyve.backends.conda.envfile import EnvFile, conda_spec_name, env_hash
from pyve.backends.conda.layout import ENVS_DIR, MARKER
from pyve.backends.conda.lockplan import ENV_FILE, _damaged_solution
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


def _conda_by_hand(prefix: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """conda:name -> version-build of the installed packages the solution lacks."""
    solved = {str(e.get("name")) for e in entries}
    return {key: version for key, version in sorted(envstate.conda_packages(prefix).items())
            if key.removeprefix("conda:") not in solved}


def _replaced_env(project: Project, prefix: Path) -> Path | None:
    """The env the project used before this new one: the one create-env last recorded
    (None if that is this one, or it is gone)."""
    identity = envstate.load_identity(project.root, "create-env") or {}
    try:
        key = env_hash(list(identity["channels"]), list(identity["specs"]),
                       str(identity["platform"]))
    except (KeyError, TypeError):
        return None
    replaced = project.root / ENVS_DIR / key
    return replaced if replaced != prefix and (replaced / MARKER).is_file() else None


def _env_entries(prefix: Path) -> list[dict[str, Any]] | None:
    """The solution an env was made from (beside it, as <hash>.solution.json)."""
    path = prefix.with_name(f"{prefix.name}.solution.json")
    if _damaged_solution(path) or not path.is_file():
        return None
    return list(json.loads(path.read_text(encoding="utf-8")))


def _keep_conda_by_hand(project: Project, env: EnvFile, prefix: Path,
                        entries: list[dict[str, Any]], records: list[Any],
                        decision: Decision) -> list[Any]:
    """The records of the conda packages installed by hand that stay; says which go and
    why (--exact: all of them). A new env (its specs changed) gets those of the env it
    replaces, as a rebuild of the same env keeps its own; one that cannot stay as it
    was is solved again beside the solution, in either case."""
    replaced = None
    if (prefix / "conda-meta").is_dir():
        kept = _conda_by_hand(prefix, entries)
    else:
        replaced = _replaced_env(project, prefix)
        made_from = _env_entries(replaced) if replaced is not None else None
        if replaced is None or made_from is None:
            return []  # (without its solution, what was by hand there is unknown)
        prefix = replaced
        solved = {r.name.normalized for r in records}  # the new solve's versions win
        kept = {k: v for k, v in _conda_by_hand(prefix, made_from).items()
                if k.removeprefix("conda:") not in solved}
    if not kept:
        return []
    shown = {k.removeprefix("conda:"): f"{k.removeprefix('conda:')} {v}"
             for k, v in kept.items()}
    if _exact(decision):
        ui.info(f"  removed {', '.join(shown.values())}: installed by hand, not in "
                f"{_where(decision)} ({_exact(decision)})")
        return []
    stay, dropped = engine.keepable(records, engine.installed_records(prefix, shown))
    if dropped:  # the same env re-solved (a teammate's re-lock) or a new one: solve again
        roots = [k.removeprefix("conda:") for k in _conda_roots(prefix, list(kept))]
        again = _solve_again(env, [*records, *stay], [n for n in roots if n in dropped])
        where = "the new environment" if replaced is not None else "the environment"
        for record in again:
            name = record.name.normalized
            if name in dropped:
                del dropped[name]
                ui.info(f"  {shown[name]} (installed by hand) is {name} "
                        f"{record.version}-{record.build} in {where}: "
                        "solved again beside its specs")
        stay = [*stay, *again]
    for name, why in sorted(dropped.items()):
        ui.info(f"  removed {shown.get(name, name)}: installed by hand; {why} "
                f"(add it to {ENV_FILE} to have it solved with the rest)")
    return stay
