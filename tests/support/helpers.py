"""Helpers shared by the e2e tests (no fixtures here: those live in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import Result

PROMPT = (
    "Detected files:\n"
    "  • environment.yml (conda/micromamba)\n"
    "  • pyproject.toml (Python project)\n"
    "\n"
    "Initialize with micromamba backend? [Y/n]:"
)
# A conda env file that fails fast offline, should a conda build start: the micromamba
# answers are asserted on the decision, never on a conda build.
ENV_YML = ("name: t\nchannels:\n  - file:///nonexistent-pyve-test-channel\n"
           "dependencies:\n  - python\n")


def stage_line(output: str, stage: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith(stage + " "):
            return line
    raise AssertionError(f"no line for {stage} in:\n{output}")


def stages_ran(output: str) -> list[str]:
    names = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and line.startswith("  ") and parts[1] == "ran":
            names.append(parts[0])
    return names


def status_json(result: Result) -> dict[str, Any]:
    assert result.returncode == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def chose_micromamba(result: Result, project: Path) -> bool:
    """The command decided micromamba: said so, and built no venv."""
    out = result.output
    return ("micromamba" in out and "venv backend" not in out
            and not (project / ".venv").exists())


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for directories)."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        found[rel] = None if path.is_dir() else path.read_bytes()
    return found


def py(project: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([project / ".venv" / "bin" / "python", "-c", code],
                          capture_output=True, text=True, env=env, check=False)


def pyenv_python(version: str) -> Path | None:
    from tests.conftest import REAL_PYENV_ROOT

    exe = Path(REAL_PYENV_ROOT) / "versions" / version / "bin" / "python"
    return exe if exe.exists() else None


def resealed(text: str, prefix: str = "# pyve-content: ") -> str:
    """A lock edited by hand on purpose, with its content digest made right again: for a
    test that aims at a check made after the digest's (lockseal.py)."""
    import re

    from pyve import lockseal

    return lockseal.seal(re.sub(re.escape(prefix) + r"sha256=[0-9a-f]{64}",
                                prefix + lockseal.PLACEHOLDER, text, count=1), prefix)


def installed(env: Path) -> set[str]:
    """The distributions in an env's site-packages, by their dist-info's name (lower case)."""
    site = next(env.glob("lib/python3*/site-packages"))
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


def locked(project: Path) -> set[str]:
    """The names requirements.lock.txt pins."""
    lock = (project / "requirements.lock.txt").read_text()
    return {line.split("==")[0] for line in lock.splitlines() if "==" in line}
