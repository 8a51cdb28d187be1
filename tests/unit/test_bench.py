"""bench/: the real requirement sets are pinned requirement files, and the script starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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
