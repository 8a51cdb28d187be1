"""The stage both backends start with, and the check for pyve's own JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from pyve.backends.base import Stage
from pyve.decision import Decision
from pyve.fingerprint import data_digest
from pyve.fsutil import atomic_write_text
from pyve.project import Project


def detect_stage(project: Project, decision: Decision) -> Stage:
    """Record the decision in .pyve/decision.json; its stamp changes only when it does."""
    recorded = {
        "backend": decision.backend,
        "python": decision.python_version,
        "python_path": decision.python_path,
        "pip_sources": list(decision.pip_sources),
    }

    def write() -> str:
        # skipped_sources too: the sources declined are an answer the next build keeps
        # (commands/common.pip_choice), though declining one changes nothing to build
        atomic_write_text(project.state_dir / "decision.json", json.dumps(
            {**decision.as_dict(), "skipped_sources": list(decision.skipped_sources)},
            indent=2) + "\n")
        return data_digest(recorded)

    return Stage(name="detect", action=write, targets=[".pyve/decision.json"], config=recorded,
                 checks=[lambda: damaged_json(project.root / ".pyve/decision.json", dict,
                                              what="the recorded decision")],
                 watch=[".pyve/decision.json"])


def damaged_json(path: Path, kind: type, item: type | None = None, *,
                 what: str) -> str | None:
    """A check for pyve's own JSON files: "<what> is damaged" when one no longer parses as
    a `kind` (of `item`s) -- a disk error, a hand edit --, so the stage writes it again.
    `what` says it in a user's words: the file's name is pyve's business."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None  # the missing target says it
    except (OSError, ValueError, RecursionError):
        data = None
    if isinstance(data, kind) and (item is None or all(isinstance(i, item) for i in data)):  # type: ignore[attr-defined]
        return None
    return f"{what} is damaged"
