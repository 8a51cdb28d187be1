"""pyve's performance table: run from the repo root with `doit bench` (or python bench/bench.py).

Builds its own offline fixtures once (a wheelhouse of tiny wheels, cached in the temp dir),
then times pairs of commands, interleaved, and prints medians and ratios:

  no-op `pyve build`                 vs `python -c pass`                (target <= 2.5x)
  `pyve run python -c pass`          vs `.venv/bin/python -c pass`      (target <= 3x)
  cold venv build (pip)              vs `python -m venv` + `pip install -r` (target <= 0.5x)
  cold venv build (installer = uv)   vs `uv venv` + `uv pip install -r`     (target <= 1.5x)
  one-line requirements change       vs cold build
  no-op and one-change rebuild with 10 / 100 / 1000 requirement lines (and as large a lock)
  a build that runs one small stage  vs `python -c 'import doit.dependency'` (target <= 2x)
  activation, venv and micromamba: `eval "$(pyve shell-hook)"` and the direnv .envrc, in bash
                                     (target < 50 ms, absolute)

`--quick` uses fewer repetitions; `--only activation` runs the activation rows alone;
`--only startup` the rows of pyve's fixed cost (no-op, one small stage, venv activation).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from timing import header, pair, row, sh, summary, timed  # noqa: E402

from tests.support.direnv_stubs import DIRENV_STUBS  # noqa: E402
from tests.support.wheel_fixtures import build_wheel, build_wheelhouse  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "pyve-bench-cache"
N_TINY = 1000
PYTHON = sys.executable


def wheelhouse() -> Path:
    """The default test wheels plus N_TINY tiny ones (tiny0000 .. tiny0999), made once."""
    house = CACHE / "wheels"
    done = house / ".complete"
    if not done.exists():
        shutil.rmtree(house, ignore_errors=True)
        build_wheelhouse(house)
        for i in range(N_TINY):
            build_wheel(house, f"tiny{i:04d}", "1.0")
        done.write_text("ok\n")
    return house


def sandbox(root: Path, house: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYVE_", "PIP_", "UV_")) and k != "VIRTUAL_ENV"}
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home), "CI": "1", "NO_COLOR": "1",
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CACHE_DIR": str(CACHE / "pip-cache"),
        "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(house), "UV_CACHE_DIR": str(CACHE / "uv-cache"),
        "PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv"),
    })
    return env


def compile_pyve() -> None:
    """Byte-compile the pyve being timed, as `pip install` does for a regular install. An
    editable install run with PYTHONDONTWRITEBYTECODE=1 (set on the development VM) would
    otherwise compile its modules again on every run: ~30 ms of a cold build."""
    sh([PYTHON, "-c", "import compileall, pyve; compileall.compile_dir(pyve.__path__[0], quiet=1)"],
       REPO, {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})


def pyve_cmd() -> list[str]:
    script = Path(PYTHON).parent / "pyve"
    return [str(script)] if script.exists() else [PYTHON, "-m", "pyve"]


def uv_cmd() -> str | None:
    return shutil.which("uv") or shutil.which("uv", path=str(Path(PYTHON).parent))


def requirements(n: int) -> str:
    return "".join(f"tiny{i:04d}\n" for i in range(n))


def project(root: Path, n: int, installer: str = "pip") -> Path:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text(requirements(n))
    (root / "pyve.toml").write_text(
        f'backend = "venv"\ninstall_deps = true\ninstaller = "{installer}"\n')
    return root


def scale(work: Path, n: int, pyve: list[str], env: dict[str, str],
          slow_env: dict[str, str], fast_reps: int) -> None:
    """No-op (fast path and doit) and a one-line change with n requirement lines."""
    proj = project(work / f"s{n}", n)
    cold = timed(lambda: sh([*pyve, "build"], proj, env))
    sh([*pyve, "build"], proj, env)
    reps = fast_reps if n < 1000 else max(3, fast_reps // 4)
    a, b = pair(lambda: sh([*pyve, "build"], proj, env),
                lambda: sh([PYTHON, "-c", "pass"], proj, env), reps)
    row(f"no-op build, {n} reqs ({n}-entry lock) vs python -c pass", a, b)
    slow = statistics.median(timed(lambda: sh([*pyve, "build"], proj, slow_env))
                             for _ in range(max(1, reps // 3)))
    row(f"no-op build without fast path, {n} reqs vs python -c pass", slow, b)
    counter = {"n": 0}

    def change() -> None:
        counter["n"] += 1
        extra = "gamma\n" if counter["n"] % 2 else ""
        (proj / "requirements.txt").write_text(requirements(n) + extra)
        sh([*pyve, "build"], proj, env)

    rebuild = statistics.median(timed(change) for _ in range(1 if n >= 1000 else 2))
    row(f"one-line change rebuild, {n} reqs vs cold build", rebuild, cold)


def uv_rows(uv: str, pyve: list[str], env: dict[str, str], work: Path,
            fresh_pyve: Callable[[], None], fresh_base: Callable[[], None],
            reps: int) -> None:
    """Cold builds with installer = uv, against the commands a uv user would type. uv reads
    neither PIP_NO_INDEX nor UV_NO_INDEX, so the baseline passes --no-index as pyve does
    (without it uv asks PyPI for every name, and that is what it would be timing)."""
    cold_pyve, cold_base = work / "cold-pyve", work / "cold-base"

    def baseline() -> None:
        sh([uv, "venv", "-q", "--python", PYTHON, ".venv"], cold_base, env)
        sh([uv, "pip", "install", "-q", "--no-index", "--python", ".venv/bin/python",
            "-r", "requirements.txt"], cold_base, env)

    def prep() -> None:
        fresh_pyve()
        fresh_base()

    def prep_cold_cache() -> None:
        prep()
        shutil.rmtree(env["UV_CACHE_DIR"], ignore_errors=True)

    a, b = pair(lambda: sh([*pyve, "build"], cold_pyve, env), baseline, reps, prep)
    row("cold build, installer=uv (10 reqs) vs uv venv + uv pip install", a, b, "<= 1.5x")
    a, b = pair(lambda: sh([*pyve, "build"], cold_pyve, env), baseline, reps,
                prep_cold_cache)
    row("  the same, uv's cache emptied before each run", a, b, "")
    # The floor under any Python tool built on doit: start-up plus `import doit`.
    a, b = pair(lambda: sh([PYTHON, "-c", "import doit"], cold_pyve, env), baseline, reps, prep)
    row("  for reference: `python -c 'import doit'` vs the same uv baseline", a, b, "")


HOOK = 'eval "$(pyve shell-hook --shell bash)"'


def bash(code: str) -> list[str]:
    return ["bash", "--norc", "--noprofile", "-c", code]


def conda_project(root: Path) -> Path | None:
    """python + pip from a local channel (tests/support/conda_fixtures), or None off linux or
    without py-rattler."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        from tests.support import conda_fixtures
    except ImportError:
        return None
    channel = conda_fixtures.add_host_python(conda_fixtures.build_channel(root / "channel"))
    proj = root / "act-conda"
    proj.mkdir()
    (proj / "environment.yml").write_text(
        f"channels:\n  - {channel}\ndependencies:\n  - python\n  - pip\n"
        "platforms: [linux-64]\n")
    return proj


def active_python(code: str, cwd: Path, env: dict[str, str]) -> str:
    """The `python` bash finds after `code`: checks that what is timed really activates."""
    return subprocess.run(bash(code + "; command -v python"), cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def activation_rows(label: str, root: Path, baseline: tuple[list[str], str],
                    env: dict[str, str], slow_env: dict[str, str], reps: int) -> None:
    """The three activation rows of one backend against `baseline` (command, its name)."""
    base, name = baseline
    envrc = bash(DIRENV_STUBS + "source ./.envrc")
    a, b = pair(lambda: sh(bash(HOOK), root, env), lambda: sh(base, root, env), reps)
    row(f'{label}: eval "$(pyve shell-hook)" vs {name}', a, b, "< 50 ms")
    a, b = pair(lambda: sh(envrc, root, env), lambda: sh(base, root, env), reps)
    row(f"{label}: direnv .envrc vs {name}", a, b, "< 50 ms")
    a, b = pair(lambda: sh(bash(HOOK), root, slow_env), lambda: sh(base, root, env),
                max(3, reps // 3))
    row(f"{label}: shell-hook without the fast path", a, b, "(for reference)")


def activation(work: Path, env: dict[str, str], pyve: list[str], reps: int,
               conda: bool = True) -> None:
    """Wall time of activating in a fresh bash: the shell-hook eval and the direnv .envrc
    (target < 50 ms absolute, as the Backends Guide quotes ~50 ms for venv's activate)."""
    bindir = work / "bin"  # `pyve` alone on PATH (no python next to it for discovery)
    bindir.mkdir()
    if len(pyve) == 1:
        (bindir / "pyve").symlink_to(pyve[0])
    else:
        (bindir / "pyve").write_text(f'#!/bin/sh\nexec {" ".join(pyve)} "$@"\n')
        (bindir / "pyve").chmod(0o755)
    # the same PATH for the build and the activation: the fast path's snapshot records it
    env = {**env, "PATH": f"{bindir}{os.pathsep}{env['PATH']}"}
    slow_env = {**env, "PYVE_NO_FAST": "1"}
    venv = work / "act-venv"
    venv.mkdir()
    (venv / "requirements.txt").write_text(requirements(1))
    (venv / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    sh([*pyve, "init", "--yes"], venv, env)
    sh([*pyve, "build"], venv, env)
    activate = bash("source .venv/bin/activate")
    for code in (HOOK, DIRENV_STUBS + "source ./.envrc"):
        assert active_python(code, venv, env) == f"{venv}/.venv/bin/python", code
    activation_rows("venv", venv, (activate, "source .venv/bin/activate"), env, slow_env, reps)
    if not conda:
        return
    proj = conda_project(work)
    if proj is None:
        print("  (micromamba activation skipped: needs linux and py-rattler)")
        return
    sh([*pyve, "init", "--backend", "micromamba", "--yes"], proj, env)
    sh([*pyve, "build"], proj, env)
    for code in (HOOK, DIRENV_STUBS + "source ./.envrc"):
        assert active_python(code, proj, env).startswith(f"{proj}/.pyve/envs/"), code
    activation_rows("micromamba", proj, (bash(":"), "bash -c :"), env, slow_env, reps)


ONE_STAGE = "detect"  # re-runs alone (its output is the same), in ~1 ms: the rest is fixed cost


def one_stage(proj: Path) -> None:
    """Make the next build run detect and nothing else: its stamp goes (never completed),
    it writes the same stamp again, so nothing after it is stale."""
    (proj / ".pyve" / "stamps" / ONE_STAGE).unlink(missing_ok=True)


def doit_rows(proj: Path, env: dict[str, str], pyve: list[str], slow_reps: int,
              fast_reps: int) -> None:
    """The rows through doit, of a built project: the no-op without the fast path, and a
    full build that runs one small stage against importing doit's engine."""
    slow_env = {**env, "PYVE_NO_FAST": "1"}
    a, b = pair(lambda: sh([*pyve, "build"], proj, slow_env),
                lambda: sh([PYTHON, "-c", "pass"], proj, env), slow_reps)
    row("no-op `pyve build` without the fast path (doit)", a, b, "(for reference)")
    a, b = pair(lambda: sh([*pyve, "build"], proj, env),
                lambda: sh([PYTHON, "-c", "import doit.dependency"], proj, env), fast_reps,
                lambda: one_stage(proj))
    row(f"build running one stage ({ONE_STAGE}) vs `python -c 'import doit.dependency'`",
        a, b, "<= 2x")


def startup(work: Path, env: dict[str, str], pyve: list[str], fast_reps: int) -> None:
    """pyve's fixed cost: the no-op build (fast path, then doit), a full build that runs one
    small stage against importing doit's engine, and the venv activation rows."""
    proj = project(work / "p10", 10, "uv" if uv_cmd() else "pip")
    sh([*pyve, "build"], proj, env)
    sh([*pyve, "build"], proj, env)  # the snapshot exists now
    a, b = pair(lambda: sh([*pyve, "build"], proj, env),
                lambda: sh([PYTHON, "-c", "pass"], proj, env), fast_reps)
    row("no-op `pyve build` vs `python -c pass`", a, b, "<= 2.5x")
    doit_rows(proj, env, pyve, fast_reps, fast_reps)
    activation(work, env, pyve, fast_reps, conda=False)


def core(work: Path, env: dict[str, str], pyve: list[str], skip_1000: bool,
         fast_reps: int, cold_reps: int) -> None:
    """The rows on tiny offline wheels: no-op, run, cold builds, scale, activation."""
    # -- no-op build and run on a 10-line project --------------------------------
    proj = project(work / "p10", 10)
    sh([*pyve, "build"], proj, env)
    sh([*pyve, "build"], proj, env)  # the snapshot exists now
    a, b = pair(lambda: sh([*pyve, "build"], proj, env),
                lambda: sh([PYTHON, "-c", "pass"], proj, env), fast_reps)
    row("no-op `pyve build` vs `python -c pass`", a, b, "<= 2.5x")
    venv_py = str(proj / ".venv/bin/python")
    a, b = pair(lambda: sh([*pyve, "run", "python", "-c", "pass"], proj, env),
                lambda: sh([venv_py, "-c", "pass"], proj, env), fast_reps)
    row("`pyve run python -c pass` vs `.venv/bin/python -c pass`", a, b, "<= 3x")
    slow_env = {**env, "PYVE_NO_FAST": "1"}  # the scale rows below use it too
    doit_rows(proj, env, pyve, max(3, fast_reps // 3), fast_reps)

    # -- cold builds ---------------------------------------------------------------
    cold_pyve = work / "cold-pyve"
    cold_base = work / "cold-base"

    def fresh_pyve(installer: str = "pip") -> Callable[[], None]:
        return lambda: project(cold_pyve, 10, installer) and None

    def fresh_base() -> None:
        shutil.rmtree(cold_base, ignore_errors=True)
        cold_base.mkdir()
        (cold_base / "requirements.txt").write_text(requirements(10))

    def prep() -> None:
        fresh_pyve()()
        fresh_base()

    a, b = pair(lambda: sh([*pyve, "build"], cold_pyve, env),
                lambda: (sh([PYTHON, "-m", "venv", ".venv"], cold_base, env),
                         sh([".venv/bin/pip", "install", "-r", "requirements.txt"],
                            cold_base, env)) and None,
                cold_reps, prep)
    row("cold build, pip (10 reqs) vs venv + pip install -r", a, b, "<= 0.5x")
    uv = uv_cmd()
    if uv:
        uv_rows(uv, pyve, env, work, fresh_pyve("uv"), fresh_base, cold_reps)
    # one-line change vs cold
    proj = project(work / "p10", 10)
    sh([*pyve, "build"], proj, env)
    state = {"n": 0}

    def change() -> None:
        state["n"] += 1
        extra = "gamma\n" if state["n"] % 2 else ""
        (proj / "requirements.txt").write_text(requirements(10) + extra)
        sh([*pyve, "build"], proj, env)

    rebuild = statistics.median(timed(change) for _ in range(max(cold_reps, 2)))
    prep()
    cold = timed(lambda: sh([*pyve, "build"], cold_pyve, env))
    row("one-line requirements change vs cold build (10 reqs)", rebuild, cold, "")

    # -- scale -------------------------------------------------------------------------
    sizes = [10, 100] if skip_1000 else [10, 100, 1000]
    for n in sizes:
        scale(work, n, pyve, env, slow_env, fast_reps)

    # -- activation --------------------------------------------------------------------
    activation(work, env, pyve, fast_reps)


MODES = ("core", "real", "conda", "forge", "remote")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="modes: core (tiny wheels: no-op, run, cold, scale, activation), real (real "
               "requirement sets from bench/sets/, wheels fetched once from PyPI), conda "
               "(a generated ~300-package channel against the real micromamba), forge (that "
               "channel padded to 200,000 records, conda-forge's size), remote (a restore "
               "from the remote cache, S3 on loopback, vs a cold build); default: all")
    parser.add_argument("modes", nargs="*", metavar="MODE",
                        help="core, real, conda, forge or remote")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--skip-1000", action="store_true", help="leave out the 1000 case")
    parser.add_argument("--only", choices=["activation", "startup"],
                        help="run only these rows")
    parser.add_argument("--sets", default="small,medium,large",
                        help="real mode: the sets to time (default: %(default)s)")
    parser.add_argument("--pip-sets", default="small,medium",
                        help="real mode: the sets that also get the pip rows; pip takes "
                             "minutes on the large set (default: %(default)s)")
    parser.add_argument("--records", type=int, default=200_000,
                        help="forge mode: records in the channel (default: %(default)s)")
    args = parser.parse_args()
    modes = args.modes or list(MODES)
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    fast_reps, cold_reps = (5, 1) if args.quick else (21, 3)
    house = wheelhouse()
    compile_pyve()
    work = Path(tempfile.mkdtemp(prefix="pyve-bench-"))
    env = sandbox(work, house)
    pyve = pyve_cmd()
    print(f"python {sys.version.split()[0]} ({PYTHON}); {os.cpu_count()} cpus; work dir {work}")
    header()
    try:
        if args.only == "activation":
            activation(work, env, pyve, fast_reps)
            print("\n" + summary())
            return 0
        if args.only == "startup":
            startup(work, env, pyve, fast_reps)
            print("\n" + summary())
            return 0
        if "core" in modes:
            core(work, env, pyve, args.skip_1000, fast_reps, cold_reps)
        if "real" in modes:
            import real

            uv = uv_cmd()
            if uv is None:
                raise SystemExit("real mode needs uv (pip install uv)")
            real.run(work / "real", env, pyve, uv, args.sets.split(","),
                     args.pip_sets.split(","), cold_reps, fast_reps)
        if "conda" in modes:
            import conda_scale

            conda_scale.run(work / "conda", CACHE, env, pyve, PYTHON, cold_reps, fast_reps)
        if "forge" in modes:
            import conda_forge_scale

            (work / "forge").mkdir()
            conda_forge_scale.run(work / "forge", CACHE, env, pyve, PYTHON, cold_reps,
                                  args.records)
        if "remote" in modes:
            import remote

            remote.run(work / "remote", env, pyve, uv_cmd(), CACHE, cold_reps)
        print("\n" + summary())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
