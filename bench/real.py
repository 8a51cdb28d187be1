"""Real dependency sets (bench/sets/*.txt, pinned requirements of a public project), timed
offline on wheels fetched once from PyPI into ~/.cache/pyve-bench/wheels/<set>-cp<XY>.

Per set, side by side on the same wheelhouse and caches: a cold build with installer = "uv"
against `uv venv` + `uv pip install -r`, and like for like (the targets' rows) against
`uv venv` + `uv pip compile --universal --generate-hashes` + `uv pip sync` of that lock,
which is pyve's job; with installer = "pip" against `python -m venv` + `pip install -r`; a
one-line change (one package added) against `uv pip install -r` (and `pip install -r`) into
the existing env, and like for like against a re-lock (`compile -o` the existing lock, whose
pins uv keeps) + `uv pip sync`; a no-op. pyve's own stage times (`pyve -v build`) are printed
under each pyve row.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from timing import out, pair, row, sh

SETS_DIR = Path(__file__).resolve().parent / "sets"
SETS = ("small", "medium", "large")
CHANGE = "tabulate==0.9.0"  # the line the one-line change adds (in no set, no dependencies)
TARGET_SET = "medium"  # the targets are stated on the ~60-package set
XY = f"{sys.version_info[0]}.{sys.version_info[1]}"
PYPI = "https://pypi.org/simple"


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pyve-bench"


def set_lines(name: str) -> list[str]:
    """The requirement lines of a set file (comments and blanks left out)."""
    text = (SETS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _online_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return env


def fetch(name: str, uv: str) -> Path:
    """The set's wheelhouse, fetched from PyPI the first time: every file the lock's
    universal resolution reads (`uv pip compile --universal`, so also e.g. colorama for
    Windows), wheels only, plus the one-line change's package."""
    reqs = SETS_DIR / f"{name}.txt"
    house = cache_root() / "wheels" / f"{name}-cp{XY.replace('.', '')}"
    key = hashlib.sha256(reqs.read_bytes() + CHANGE.encode() + XY.encode()).hexdigest()
    stamp = house / ".complete"
    if stamp.is_file() and stamp.read_text().strip() == key:
        return house
    print(f"  fetching the wheels of bench/sets/{name}.txt from PyPI into {house} (once)",
          flush=True)
    shutil.rmtree(house, ignore_errors=True)
    house.mkdir(parents=True)
    env = _online_env()
    closure = subprocess.run(
        [uv, "pip", "compile", "--universal", "--no-annotate", "--no-header", "--quiet",
         "--python-version", XY, "--index-url", PYPI, "-c", reqs, reqs],
        env=env, check=True, capture_output=True, text=True).stdout
    pins = [re.sub(r"\[.*?\]", "", line.split(";")[0]).strip()
            for line in closure.splitlines() if "==" in line]
    with tempfile.TemporaryDirectory() as tmp:
        listed = Path(tmp) / "pins.txt"
        listed.write_text("\n".join([*pins, CHANGE]) + "\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "--index-url", PYPI, "-d", house, "-r", listed],
                       env=env, check=True)
    stamp.write_text(key + "\n")
    return house


def stages(text: str) -> str:
    """`create-env 0.0s, pip-deps 0.6s, freeze 0.4s` from `pyve -v build` output."""
    found = re.findall(r"^\s+(\S+)\s+ran\s+([\d.]+s)", text, re.M)
    return ", ".join(f"{stage} {took}" for stage, took in found) or "(no stage ran)"


def note(text: str) -> None:
    print(f"      {text}", flush=True)


def run(work: Path, base_env: dict[str, str], pyve: list[str], uv: str, sets: list[str],
        pip_sets: list[str], reps: int, fast_reps: int) -> None:
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    for name in sets:
        house = fetch(name, uv)
        lines = set_lines(name)
        env = {**base_env, "PIP_FIND_LINKS": str(house), "UV_FIND_LINKS": str(house),
               "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1"}
        one_set(work / name, name, lines, env, pyve, uv, python, name in pip_sets, reps,
                fast_reps)


def one_set(work: Path, name: str, lines: list[str], env: dict[str, str], pyve: list[str],
            uv: str, python: str, with_pip: bool, reps: int, fast_reps: int) -> None:
    n = len(lines)
    label = f"{name} ({n} pins)"
    base_text = "\n".join(lines) + "\n"
    changed_text = base_text + CHANGE + "\n"
    target = TARGET_SET == name
    dirs = {k: work / k for k in ("pyve-uv", "pyve-pip", "uv", "pip")}
    last: dict[str, str] = {}

    def fresh(key: str) -> Callable[[], None]:
        def make() -> None:
            d = dirs[key]
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            (d / "requirements.txt").write_text(base_text)
            if key.startswith("pyve-"):
                (d / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n'
                                             f'installer = "{key[5:]}"\n')
        return make

    def pyve_v(key: str, what: str) -> Callable[[], None]:
        def go() -> None:
            last[what] = out([*pyve, "-v", "build"], dirs[key], env)
        return go

    def uv_install(d: Path) -> None:
        sh([uv, "pip", "install", "-q", "--no-index", "--python", ".venv/bin/python",
            "-r", "requirements.txt"], d, env)

    def uv_cold() -> None:
        sh([uv, "venv", "-q", "--python", python, ".venv"], dirs["uv"], env)
        uv_install(dirs["uv"])

    def uv_lock(d: Path) -> None:
        """The lock pyve writes: every platform's files and hashes (uv keeps the pins of an
        existing output file, as pyve keeps the previous lock's)."""
        sh([uv, "pip", "compile", "-q", "--universal", "--generate-hashes", "--no-index",
            "requirements.txt", "-o", "requirements.lock.txt"], d, env)

    def uv_sync(d: Path) -> None:
        """The env installed from that lock for this Python, hash-checked."""
        sh([uv, "pip", "sync", "-q", "--no-index", "--require-hashes", "--python",
            ".venv/bin/python", "requirements.lock.txt"], d, env)

    def uv_lock_sync() -> None:
        """pyve's job done by uv alone: lock, then install the env from the lock."""
        uv_lock(dirs["uv"])
        uv_sync(dirs["uv"])

    def uv_cold_locked() -> None:
        sh([uv, "venv", "-q", "--python", python, ".venv"], dirs["uv"], env)
        uv_lock_sync()

    def pip_cold() -> None:
        sh([python, "-m", "venv", ".venv"], dirs["pip"], env)
        sh([".venv/bin/pip", "install", "-q", "-r", "requirements.txt"], dirs["pip"], env)

    def both(*makers: Callable[[], None]) -> Callable[[], None]:
        return lambda: [m() for m in makers] and None

    # uv's cache holds this wheelhouse unpacked before anything is timed, for both sides
    fresh("uv")()
    uv_cold()

    a, b = pair(pyve_v("pyve-uv", "uv-cold"), uv_cold, reps, both(fresh("pyve-uv"), fresh("uv")))
    row(f"{label}: cold, installer=uv vs uv venv + uv pip install", a, b, "(no lock)")
    note(f"pyve stages: {stages(last['uv-cold'])}")
    a, b = pair(pyve_v("pyve-uv", "uv-cold"), uv_cold_locked, reps,
                both(fresh("pyve-uv"), fresh("uv")))
    row(f"{label}: cold, like for like: uv venv + uv pip compile --universal "
        "--generate-hashes + uv pip sync", a, b, "<= 1.3x" if target else "like for like")
    note(f"pyve stages: {stages(last['uv-cold'])}")
    if with_pip:
        a, b = pair(pyve_v("pyve-pip", "pip-cold"), pip_cold, 1,
                    both(fresh("pyve-pip"), fresh("pip")))
        row(f"{label}: cold, installer=pip vs venv + pip install -r", a, b, "<= 0.7x")
        note(f"pyve stages: {stages(last['pip-cold'])}")

    # -- one line added, into the envs just built ----------------------------------------
    def write(key: str, text: str) -> None:
        (dirs[key] / "requirements.txt").write_text(text)

    def pyve_change(key: str) -> Callable[[], None]:
        def go() -> None:
            write(key, changed_text)
            pyve_v(key, f"{key}-change")()
        return go

    def uv_change() -> None:
        write("uv", changed_text)
        uv_install(dirs["uv"])

    def undo_uv() -> None:
        write("pyve-uv", base_text)
        sh([*pyve, "build"], dirs["pyve-uv"], env)
        write("uv", base_text)
        sh([uv, "pip", "uninstall", "-q", "--python", ".venv/bin/python", "tabulate"],
           dirs["uv"], env)

    a, b = pair(pyve_change("pyve-uv"), uv_change, reps, undo_uv)
    row(f"{label}: one line added, uv vs uv pip install -r (existing env)", a, b,
        "(no lock)")
    note(f"pyve stages: {stages(last['pyve-uv-change'])}")
    def uv_change_locked() -> None:
        write("uv", changed_text)
        uv_lock_sync()

    def undo_uv_locked() -> None:
        undo_uv()
        uv_lock_sync()  # the lock back to the base set (untimed)

    undo_uv_locked()
    a, b = pair(pyve_change("pyve-uv"), uv_change_locked, reps, undo_uv_locked)
    row(f"{label}: one line added, like for like: re-lock (compile -o the lock) + sync", a, b,
        "<= 1.5x" if target else "like for like")
    note(f"pyve stages: {stages(last['pyve-uv-change'])}")
    if with_pip:
        def pip_change() -> None:
            write("pip", changed_text)
            sh([".venv/bin/pip", "install", "-q", "-r", "requirements.txt"], dirs["pip"], env)

        def undo_pip() -> None:
            write("pyve-pip", base_text)
            sh([*pyve, "build"], dirs["pyve-pip"], env)
            write("pip", base_text)
            sh([".venv/bin/pip", "uninstall", "-q", "-y", "tabulate"], dirs["pip"], env)

        a, b = pair(pyve_change("pyve-pip"), pip_change, 1, undo_pip)
        row(f"{label}: one line added, pip vs pip install -r (existing env)", a, b, "")
        note(f"pyve stages: {stages(last['pyve-pip-change'])}")

    # -- no-op: pyve's fast path against uv's own "nothing to do" ----------------------
    write("pyve-uv", base_text)
    write("uv", base_text)
    sh([*pyve, "build"], dirs["pyve-uv"], env)
    sh([*pyve, "build"], dirs["pyve-uv"], env)
    a, b = pair(lambda: sh([*pyve, "build"], dirs["pyve-uv"], env),
                lambda: uv_install(dirs["uv"]), fast_reps)
    row(f"{label}: no-op `pyve build` vs uv pip install -r (satisfied)", a, b, "")
