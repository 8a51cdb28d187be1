"""Conda at conda-forge's scale: the `conda` mode's channel (~300 real packages, ~150 of them
installed) padded with generated metadata-only records to >= 200,000 (no archive behind
them: neither tool downloads what it does not pick), so that a solve reads a repodata.json of
conda-forge's size. pyve against the real micromamba on the same file:// channel.

Rows, each with the peak RSS of both (GNU time's, for that one command):
- solve only, repodata cache cold and warm: pyve's engine `solve()` vs `micromamba create
  --dry-run`;
- a full `pyve build` (package cache full, new env) vs `micromamba create`, and a one-spec
  change.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from timing import ROWS

N_RECORDS = 200_000
SEED = 23
VERSION = "v1"  # bump when the generator changes: the cached channel is rebuilt
STEMS = ("arrow", "boost", "cairo", "curl", "dask", "expat", "fftw", "gdal", "glib", "hdf5",
         "icu", "jpeg", "krb5", "lz4", "mpich", "netcdf", "numba", "openssl", "pango", "proj",
         "qt", "scipy", "sqlite", "tiff", "xz", "yaml", "zlib", "zstd", "blosc", "geos")
SUFFIXES = ("", "-base", "-core", "-devel", "-tools", "-static", "-python", "-cpp", "-utils")
PREFIXES = ("", "lib", "py", "r-", "perl-", "ros-humble-", "jupyter-", "pytest-")


def package_names(count: int, rng: random.Random) -> list[str]:
    """`count` distinct names shaped like conda-forge's (libfoo, r-foo, foo-devel, ...);
    none starts with `sc` or is `python`, so no generated record competes with the real ones."""
    names: set[str] = set()
    while len(names) < count:
        name = (rng.choice(PREFIXES) + rng.choice(STEMS) + rng.choice(SUFFIXES)
                + (str(rng.randint(1, 999)) if rng.random() < 0.9 else ""))
        if not name.startswith("sc") and name != "python":
            names.add(name)
    return sorted(names)


def generated_records(count: int, rng: random.Random) -> dict[str, dict[str, dict]]:
    """subdir -> file name -> record: `count` records over ~count/12 names (conda-forge has
    ~12 records a name), each name in several versions and builds, 0-12 dependencies
    (most on other generated names, some with version bounds), fields as conda-forge writes."""
    names = package_names(max(1, count // 12), rng)
    out: dict[str, dict[str, dict]] = {"linux-64": {}, "noarch": {}}
    made = 0
    while made < count:
        name = names[made % len(names)] if made < len(names) else rng.choice(names)
        subdir = "noarch" if hash(name) % 5 == 0 else "linux-64"
        version = f"{rng.randint(0, 30)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        number = rng.randint(0, 5)
        py = rng.choice(("py39", "py310", "py311", "py312", ""))
        build = (f"{py}h{rng.getrandbits(28):07x}_{number}" if subdir == "linux-64"
                 else f"pyhd8ed1ab_{number}")
        depends = [f"{dep} >={rng.randint(0, 9)}.{rng.randint(0, 9)}" if rng.random() < 0.4
                   else dep for dep in rng.sample(names, rng.randint(0, 12))]
        record = {"build": build, "build_number": number, "depends": depends,
                  "license": rng.choice(("MIT", "BSD-3-Clause", "Apache-2.0", "LGPL-2.1")),
                  "md5": f"{rng.getrandbits(128):032x}", "name": name,
                  "sha256": f"{rng.getrandbits(256):064x}",
                  "size": rng.randint(4_000, 40_000_000), "subdir": subdir,
                  "timestamp": 1_600_000_000_000 + rng.randint(0, 10**11), "version": version}
        if subdir == "noarch":
            record["noarch"] = "python"
        elif py:
            record["depends"].append(f"python >={py[2]}.{py[3:]},<{py[2]}.{int(py[3:]) + 1}.0a0")
        filename = f"{name}-{version}-{build}.tar.bz2"
        if filename not in out[subdir]:
            out[subdir][filename] = record
            made += 1
    return out


def build_channel(root: Path, base: Path, count: int = N_RECORDS) -> Path:
    """`base` (a channel with real archives) plus `count` generated records, made once under
    `root` (the archives are hard links, or copies across devices)."""
    chan = root / f"forge-scale-{VERSION}-{count}"
    if (chan / ".complete").is_file():
        return chan
    shutil.rmtree(chan, ignore_errors=True)
    generated = generated_records(count, random.Random(SEED))
    for subdir in ("linux-64", "noarch"):
        (chan / subdir).mkdir(parents=True)
        for archive in (base / subdir).glob("*.tar.bz2"):
            try:
                os.link(archive, chan / subdir / archive.name)
            except OSError:
                shutil.copy2(archive, chan / subdir / archive.name)
        repodata = json.loads((base / subdir / "repodata.json").read_text(encoding="utf-8"))
        repodata["packages"] = {**generated[subdir], **repodata["packages"]}
        (chan / subdir / "repodata.json").write_text(json.dumps(repodata), encoding="utf-8")
    (chan / ".complete").write_text("ok\n")
    return chan


def records_in(chan: Path) -> tuple[int, int]:
    """(records, bytes of repodata.json) over the channel's subdirs."""
    count = size = 0
    for path in chan.glob("*/repodata.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        count += len(data.get("packages", {})) + len(data.get("packages.conda", {}))
        size += path.stat().st_size
    return count, size


TIME = Path("/usr/bin/time")


def measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of this one command. GNU time reads it: a child's
    own rusage (wait4) starts from the RSS of the bench process it was forked from (~0.5 GB
    once the channel is read), so every row would show the bench's size, not the tool's."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        done = subprocess.run([str(TIME), "-f", "%M", "-o", rss.name, *cmd], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n"
                             + done.stderr.decode(errors="replace")[-3000:])
        return elapsed, int(rss.read().split()[-1]) * 1024  # %M is KiB


def solve_cmd(python: str, chan: Path, specs: list[str]) -> list[str]:
    """pyve's own solve (the engine the conda backend calls), nothing else."""
    # it leaves as the `pyve` command does once rattler is loaded (cli._exit_before_finalizing:
    # rattler's threads can abort a finalizing interpreter, 2-3 runs in 60 at this scale)
    code = ("import os, sys; from pyve.engines import rattler as r; "
            "print(len(r.solve([sys.argv[1]], sys.argv[2:], 'linux-64')), flush=True); "
            "os._exit(0)")
    return [python, "-c", code, f"file://{chan}", *specs]


def mm_cmd(micromamba: Path, chan: Path, specs: list[str], prefix: Path,
           dry_run: bool) -> list[str]:
    return [str(micromamba), "create", "--yes", "--quiet", "--no-rc", "--override-channels",
            "-c", f"file://{chan}", "-p", str(prefix), *(["--dry-run"] if dry_run else []),
            *specs]


def side_by_side(what: str, a: list[tuple[float, int]], b: list[tuple[float, int]],
                 target: str = "") -> None:
    """A row of medians: time and peak RSS of both."""
    ta, tb = statistics.median(t for t, _ in a), statistics.median(t for t, _ in b)
    ma, mb = max(m for _, m in a), max(m for _, m in b)
    ROWS.append((what, ta, tb, target))
    print(f"  {what:<58} {ta * 1000:9.1f} ms {tb * 1000:9.1f} ms {ta / tb:6.2f}x {target}\n"
          f"    peak RSS: pyve {ma / 2**20:.0f} MiB, micromamba {mb / 2**20:.0f} MiB "
          f"({ma / mb:.2f}x)", flush=True)


def run(work: Path, cache_root: Path, env: dict[str, str], pyve: list[str], python: str,
        reps: int, count: int = N_RECORDS) -> None:
    import conda_scale

    base, specs, extra = conda_scale.build_channel(cache_root)
    chan = build_channel(cache_root, base, count)
    records, size = records_in(chan)
    print(f"  conda-forge scale: {records} records, repodata.json {size / 1e6:.0f} MB; "
          f"{len(specs)} specs", flush=True)
    rattler_cache = work / "rattler-cache"
    mroot = work / "mamba-root"
    env = {**env, "RATTLER_CACHE_DIR": str(rattler_cache), "PYVE_CACHE_DIR": str(work / "pkgs")}
    menv = {**env, "MAMBA_ROOT_PREFIX": str(mroot), "MAMBA_ADD_PIP_AS_PYTHON_DEPENDENCY": "false"}
    prefix = work / "mm-dry"

    def cold() -> None:
        shutil.rmtree(rattler_cache, ignore_errors=True)
        shutil.rmtree(mroot / "pkgs" / "cache", ignore_errors=True)

    def both(cold_first: bool) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
        a, b = [], []
        for _ in range(reps):
            if cold_first:
                cold()
            a.append(measured(solve_cmd(python, chan, specs), work, env))
            if cold_first:
                cold()
            b.append(measured(mm_cmd(conda_scale.MICROMAMBA, chan, specs, prefix, True),
                              work, menv))
        return a, b

    side_by_side(f"{records} records: solve, no repodata cache vs mm --dry-run",
                 *both(True), "<= 1.0x")
    side_by_side(f"{records} records: solve, repodata cache warm vs mm --dry-run",
                 *both(False), "<= 1.0x")
    builds(work, chan, specs, extra, env, menv, pyve, reps)


def builds(work: Path, chan: Path, specs: list[str], extra: str, env: dict[str, str],
           menv: dict[str, str], pyve: list[str], reps: int) -> None:
    import conda_scale

    proj = work / "forge-proj"
    proj.mkdir(exist_ok=True)
    (proj / "pyve.toml").write_text('backend = "micromamba"\n')
    yml = proj / "environment.yml"
    yml.write_text(conda_scale.envfile(chan, specs))
    measured([*pyve, "build"], proj, env)  # fills the package cache
    measured(mm_cmd(conda_scale.MICROMAMBA, chan, specs, work / "mm-fill", False), work, menv)
    a, b = [], []
    for n in range(reps):
        shutil.rmtree(proj / ".pyve", ignore_errors=True)
        (proj / "conda-lock.yml").unlink(missing_ok=True)
        a.append(measured([*pyve, "build"], proj, env))
        b.append(measured(mm_cmd(conda_scale.MICROMAMBA, chan, specs, work / f"mm-new{n}",
                                 False), work, menv))
    side_by_side("full build (package cache full, new env) vs mm create", a, b, "<= 1.0x")
    a, b = [], []
    for n in range(reps):
        yml.write_text(conda_scale.envfile(chan, [*specs, extra]))
        a.append(measured([*pyve, "build"], proj, env))
        b.append(measured(mm_cmd(conda_scale.MICROMAMBA, chan, [*specs, extra],
                                 work / f"mm-change{n}", False), work, menv))
        yml.write_text(conda_scale.envfile(chan, specs))
        measured([*pyve, "build"], proj, env)
    side_by_side(f"one spec added (+{extra}) vs mm create with it", a, b)
