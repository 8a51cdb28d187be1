"""Run the real micromamba and the conda-lock CLI on what pyve writes, offline.

The micromamba binary is $PYVE_TEST_MICROMAMBA, else ../shared/tools/micromamba/bin/micromamba
beside the checkout (see its README); where neither is there, every interop test is skipped
with a reason, so a checkout without it still passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyve.engines import rattler as engine
from tests.conftest import REAL_PYENV_ROOT, SANDBOX_DROPS, Result

REPO = Path(__file__).resolve().parents[2]
MICROMAMBA = Path(os.environ.get("PYVE_TEST_MICROMAMBA") or
                  REPO.parent / "shared" / "tools" / "micromamba" / "bin" / "micromamba")
# A closed local port: any HTTP(S) request by micromamba, pip or conda-lock fails at once,
# so a test that passes never needed the network.
DEAD_PROXY = "http://127.0.0.1:9"

INTEROP = [
    pytest.mark.interop,
    pytest.mark.skipif(not MICROMAMBA.is_file(),
                       reason=f"no micromamba at {MICROMAMBA} (set PYVE_TEST_MICROMAMBA "
                       "to a micromamba binary)"),
    pytest.mark.skipif(not sys.platform.startswith("linux")
                       or engine.host_platform() != "linux-64",
                       reason="the test channel's python package is linux-64 only"),
]


def tool_environ(base: dict[str, str], mamba_root: Path) -> dict[str, str]:
    """The sandboxed environment plus micromamba's root prefix in the test's temp dir, no
    .pyc compiling (seconds per env, nothing to check), and every proxy pointing nowhere."""
    (mamba_root / "pkgs").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in base.items()
           if not k.upper().startswith(("MAMBA_", "CONDA_")) and k.upper() != "NO_PROXY"}
    env.update({"MAMBA_ROOT_PREFIX": str(mamba_root), "MAMBA_COMPILE_PYC": "false"})
    for rc in ("CONDARC", "MAMBARC"):  # an empty config: none of the machine's settings
        env[rc] = str(mamba_root / rc.lower())
        Path(env[rc]).touch()
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = DEAD_PROXY
    return env


def run(args: list[str | Path], env: dict[str, str], cwd: Path | None = None) -> Result:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def micromamba(*args: str | Path, env: dict[str, str], cwd: Path | None = None) -> Result:
    result = run([MICROMAMBA, *args], env, cwd)
    assert result.returncode == 0, f"micromamba {' '.join(map(str, args))}:\n{result.output}"
    return result


def conda_lock(*args: str | Path, env: dict[str, str], cwd: Path) -> Result:
    """The conda-lock CLI (the test dependency), as `conda-lock ARGS` would run it."""
    return run([sys.executable, "-m", "conda_lock", *args], env, cwd)


def pyve(*args: str, env: dict[str, str], cwd: Path) -> Result:
    result = run([sys.executable, "-m", "pyve", *args], env, cwd)
    assert result.returncode == 0, f"pyve {' '.join(args)}:\n{result.output}"
    return result


def env_prefix(project: Path) -> Path:
    envs = [p for p in (project / ".pyve" / "envs").iterdir() if p.is_dir()]
    assert len(envs) == 1, envs
    return envs[0]


def installed(prefix: Path) -> dict[str, dict]:
    """name -> conda-meta record of every conda package in the prefix."""
    records = (json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json"))
    return {r["name"]: r for r in records}


def site_packages(prefix: Path) -> Path:
    found = list(prefix.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def dists(prefix: Path) -> set[tuple[str, str]]:
    """(name, version) of every pip-installed distribution (conda's python packages too)."""
    found = set()
    for info in site_packages(prefix).glob("*.dist-info"):
        name, _, version = info.name[:-len(".dist-info")].partition("-")
        found.add((name.lower().replace("_", "-"), version))
    return found


def sandbox_environ(home: Path, wheelhouse: Path) -> dict[str, str]:
    """What tests/conftest.py's `sandbox_env` gives, for a fixture wider than one test."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYVE_", "PIP_", "UV_")) and k not in SANDBOX_DROPS}
    env.update({
        "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
        "PIP_CACHE_DIR": str(home / ".cache" / "pip"), "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYENV_ROOT": REAL_PYENV_ROOT,
        "NO_COLOR": "1", "COLUMNS": "200",
    })
    return env
