"""pyve's own development tasks, run with `doit` from the repo root (not with pyve):

    doit test     # the test suite (offline)
    doit lint     # ruff and mypy
    doit bench    # the performance table in docs/performance.md (< 10 minutes on 2 cores)
"""

from __future__ import annotations

import sys
from typing import Any

DOIT_CONFIG = {"default_tasks": ["lint", "test"], "verbosity": 2}
PY = sys.executable


def task_lint() -> dict[str, Any]:
    return {"actions": [[PY, "-m", "ruff", "check", "src", "tests", "bench", "dodo.py"],
                        [PY, "-m", "mypy"]],
            "uptodate": [False]}


def task_test() -> dict[str, Any]:
    return {"actions": [[PY, "-m", "pytest", "-q"]], "uptodate": [False]}


def task_bench() -> dict[str, Any]:
    return {"actions": [[PY, "bench/bench.py"]], "uptodate": [False]}
