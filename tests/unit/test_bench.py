"""bench/: the real requirement sets are pinned requirement files, and the script starts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import PyveRunner

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("name,count", [("small", 8), ("medium", 56), ("large", 184)])
def test_sets_are_pinned_requirements(name: str, count: int) -> None:
    text = (BENCH / "sets" / f"{name}.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == count
    for line in lines:
        specs = list(Requirement(line).specifier)
        assert len(specs) == 1 and specs[0].operator == "==", line


def test_help_names_the_modes() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "bench.py"), "--help"],
                          capture_output=True, text=True, check=True)
    assert "core" in done.stdout and "real" in done.stdout and "conda" in done.stdout


def test_one_stage_row_runs_one_stage(project: Path, pyve: PyveRunner) -> None:
    """The bench's "build running one stage" row times a full build that runs exactly one
    stage (and the stage it names), not a no-op and not a rebuild."""
    spec = importlib.util.spec_from_file_location("pyve_bench_script", BENCH / "bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))  # its `timing` module, as when run as a script
    try:
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(BENCH))
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    bench.one_stage(project)
    done = pyve("build", check=True)
    assert f"{bench.ONE_STAGE} " in done.stdout and "ran" in done.stdout
    assert "Ran 1 of" in done.stdout
