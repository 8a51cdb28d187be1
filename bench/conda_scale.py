"""Conda at scale: a generated local channel of ~300 packages (noarch and linux-64, a layered
dependency graph, some MB of files) and an environment.yml whose closure is ~150 of them.
pyve (rattler) against the real micromamba, same channel, same machine, offline (file://).

Rows: cold (empty package cache) and warm (full cache, new env) for both tools; a no-op and a
one-spec change; the disk a second env with the same packages costs (unique inodes).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

from real import note, stages
from timing import out, pair, row, sh

from tests.support import conda_fixtures

MICROMAMBA = Path("/work/shared/tools/micromamba/bin/micromamba")
N_PACKAGES = 300
LAYERS = 6
SEED = 13
VERSION = "v1"  # bump when the generator changes: the cached channel is rebuilt


def _name(i: int) -> str:
    return f"sc{i:03d}-{('core', 'io', 'net', 'calc', 'plot', 'cli', 'util')[i % 7]}"


def build_channel(root: Path) -> tuple[Path, list[str], str]:
    """The channel (made once, cached under `root`), the specs of the environment.yml, and
    a package outside their closure (the one-spec change)."""
    chan = root / f"scale-channel-{VERSION}"
    rng = random.Random(SEED)
    layer_of = [min(LAYERS - 1, i * LAYERS // N_PACKAGES) for i in range(N_PACKAGES)]
    deps: dict[int, list[int]] = {}
    for i in range(N_PACKAGES):
        lower = [j for j in range(N_PACKAGES) if layer_of[j] < layer_of[i]]
        deps[i] = sorted(rng.sample(lower, min(len(lower), rng.randint(1, 6)))) if lower else []
    # roots from the top layers until the closure holds ~150 packages
    closure: set[int] = set()
    roots: list[int] = []
    for i in sorted(range(N_PACKAGES), key=lambda k: (-layer_of[k], rng.random())):
        if len(closure) >= 150:
            break
        todo, seen = [i], set()
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(deps[k])
        if len(closure | seen) <= 160:
            closure |= seen
            roots.append(i)
    outside = next(i for i in range(N_PACKAGES)
                   if i not in closure and all(d in closure for d in deps[i]))
    specs = ["python", *(_name(i) for i in sorted(roots))]
    if (chan / ".complete").is_file():
        return chan, specs, _name(outside)
    shutil.rmtree(chan, ignore_errors=True)
    for i in range(N_PACKAGES):
        noarch = i % 5 in (1, 3)  # 40 % noarch, the rest linux-64
        versions = ["1.0", "2.0"] if i % 4 == 0 else ["1.4"]
        for version in versions:
            files: dict[str, bytes] = {}
            for f in range(rng.randint(2, 12)):
                size = rng.randint(500, 24_000)
                if f % 2:  # text: compresses, as sources do
                    line = f"def f{f}(x):  # {_name(i)} {version}\n    return x + {f}\n"
                    files[f"lib/{_name(i)}/m{f}.py"] = (line * (size // len(line) + 1)).encode()
                else:
                    files[f"lib/{_name(i)}/_ext{f}.so"] = rng.randbytes(size)
            depends = [f"{_name(d)} >=1" if d % 3 == 0 else _name(d) for d in deps[i]]
            conda_fixtures.build_package(
                chan, "noarch" if noarch else "linux-64", _name(i), version,
                build="0" if noarch else "h0_0", depends=depends, files=files,
                noarch="generic" if noarch else None)
    conda_fixtures.add_host_python(chan)  # reindexes
    (chan / ".complete").write_text("ok\n")
    return chan, specs, _name(outside)


def envfile(chan: Path, specs: list[str]) -> str:
    return (f"channels:\n  - file://{chan}\ndependencies:\n"
            + "".join(f"  - {s}\n" for s in specs) + "platforms: [linux-64]\n")


def channel_project(proj: Path, chan: Path, specs: list[str]) -> Path:
    """A new micromamba project folder on the bench's channel and specs."""
    proj.mkdir()
    (proj / "environment.yml").write_text(envfile(chan, specs))
    (proj / "pyve.toml").write_text('backend = "micromamba"\n')
    return proj


def inode_bytes(*dirs: Path) -> dict[tuple[int, int], int]:
    """(device, inode) -> size of every regular file under `dirs` (a hardlink counts once)."""
    found: dict[tuple[int, int], int] = {}
    for top in dirs:
        for base, _dirs, files in os.walk(top):
            for name in files:
                st = os.lstat(os.path.join(base, name))
                if not os.path.islink(os.path.join(base, name)):
                    found[(st.st_dev, st.st_ino)] = st.st_size
    return found


def run(work: Path, cache_root: Path, env: dict[str, str], pyve: list[str], python: str,
        reps: int, fast_reps: int) -> None:
    chan, specs, extra = build_channel(cache_root)
    size = sum(p.stat().st_size for p in chan.rglob("*.tar.bz2"))
    print(f"  conda channel: {N_PACKAGES} packages (+ versions), {size / 1e6:.1f} MB of archives; "
          f"environment.yml: {len(specs)} specs", flush=True)
    pkgs = work / "pyve-pkgs"
    env = {**env, "PYVE_CACHE_DIR": str(pkgs)}
    mroot = work / "mamba-root"
    menv = {**env, "MAMBA_ROOT_PREFIX": str(mroot), "MAMBA_ADD_PIP_AS_PYTHON_DEPENDENCY": "false"}
    counter = {"n": 0}

    def fresh_project() -> Path:
        counter["n"] += 1
        return channel_project(work / f"conda{counter['n']}", chan, specs)

    state: dict[str, Path] = {}

    def pyve_build() -> None:
        state["proj"] = fresh_project()
        sh([*pyve, "build"], state["proj"], env)

    def mm_create() -> None:
        prefix = work / f"mm{counter['n']}"
        counter["n"] += 1
        state["prefix"] = prefix
        sh([str(MICROMAMBA), "create", "--yes", "--quiet", "--no-rc", "-f",
            str(state["proj"] / "environment.yml"), "-p", str(prefix)], work, menv)

    def empty_caches() -> None:
        shutil.rmtree(pkgs, ignore_errors=True)
        shutil.rmtree(mroot, ignore_errors=True)
        (mroot / "pkgs").mkdir(parents=True)

    a, b = pair(pyve_build, mm_create, reps, empty_caches)
    row(f"conda cold ({len(specs)} specs, empty cache) vs micromamba create", a, b, "<= 0.8x")
    a, b = pair(pyve_build, mm_create, reps)
    row("conda warm (cache full, new env) vs micromamba create", a, b, "<= 1.0x")
    note(f"pyve stages: {stages(out([*pyve, '-v', 'build'], fresh_project(), env))}")
    lock_row(work, chan, specs, env, menv, pyve, reps)
    proj = state["proj"]
    sh([*pyve, "build"], proj, env)
    a, b = pair(lambda: sh([*pyve, "build"], proj, env),
                lambda: sh([python, "-c", "pass"], proj, env), fast_reps)
    row("conda no-op `pyve build` vs `python -c pass`", a, b, "<= 2.5x")
    prefix = state["prefix"]
    yml = proj / "environment.yml"

    def pyve_change() -> None:
        yml.write_text(envfile(chan, [*specs, extra]))
        sh([*pyve, "build"], proj, env)

    def mm_change() -> None:
        sh([str(MICROMAMBA), "install", "--yes", "--quiet", "--no-rc", "-p", str(prefix),
            "-c", f"file://{chan}", extra], work, menv)

    def undo() -> None:
        yml.write_text(envfile(chan, specs))
        sh([*pyve, "build"], proj, env)
        sh([str(MICROMAMBA), "remove", "--yes", "--quiet", "--no-rc", "-p", str(prefix), extra],
           work, menv)

    a, b = pair(pyve_change, mm_change, reps, undo)
    row(f"conda one-spec change (+{extra}) vs micromamba install", a, b)
    disk(work, pyve, env, pkgs, mroot)


CONDA_LOCK = Path(sys.executable).with_name("conda-lock")  # the test extras install it


def lock_row(work: Path, chan: Path, specs: list[str], env: dict[str, str],
             menv: dict[str, str], pyve: list[str], reps: int) -> None:
    """The lock job of a conda build, alone: `pyve lock` (a new project, no lock yet) against
    `conda-lock lock` driving the same micromamba, for the same platform."""
    if not CONDA_LOCK.is_file():
        print(f"  (no conda-lock row: {CONDA_LOCK} is missing; pip install conda-lock)")
        return
    counter = {"n": 0}

    def pyve_lock() -> None:
        counter["n"] += 1
        sh([*pyve, "lock"], channel_project(work / f"lock{counter['n']}", chan, specs), env)

    def conda_lock() -> None:
        proj = work / f"lock{counter['n']}"
        (proj / "conda-lock.yml").rename(proj / "pyve-lock.yml")
        sh([str(CONDA_LOCK), "lock", "--micromamba", "--conda", str(MICROMAMBA), "-f",
            "environment.yml", "-p", "linux-64", "--lockfile", "conda-lock.yml"], proj, menv)

    a, b = pair(pyve_lock, conda_lock, reps)
    row("conda lock (linux-64, new project) vs conda-lock lock", a, b, "<= 1.0x")


def disk(work: Path, pyve: list[str], env: dict[str, str], pkgs: Path, mroot: Path) -> None:
    """What a second env with the same packages costs: bytes of inodes it holds that the
    cache and the first env do not (hardlinks from the package cache cost nothing)."""
    envs = sorted(p for p in work.glob("conda*/.pyve/envs/*") if p.is_dir())
    mm = sorted(p for p in work.glob("mm*") if (p / "conda-meta").is_dir())
    for label, (first, second), cache in (("pyve", envs[-2:], pkgs),
                                           ("micromamba", mm[-2:], mroot / "pkgs")):
        in_cache = inode_bytes(cache)
        in_first = inode_bytes(first)
        own = {k: v for k, v in inode_bytes(second).items()
               if k not in in_cache and k not in in_first}
        size = sum(in_first.values())
        shared = sum(v for k, v in in_first.items() if k in in_cache)
        print(f"  disk, {label}: env {size / 1e6:.1f} MB ({100 * shared / size:.0f}% hard links "
              f"to the package cache); a second env with the same packages adds "
              f"{sum(own.values()) / 1e6:.2f} MB ({100 * sum(own.values()) / size:.1f}%; "
              "target < 5%)", flush=True)
