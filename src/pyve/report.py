"""The one JSON shape for `build --json`, `status --json` and `lock --check --json`.

Schema (documented in docs/json.md; bump SCHEMA when a field changes meaning):
{"schema": 1, "command": ..., "ok": bool, "up_to_date": bool, <decision fields>, "env": path,
 "fingerprint": env key, "stages": [{"name", "status", "reasons", "fingerprint", "duration"}]}

Only the standard library here: the fast path (fastpath.py) prints the same shape.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

SCHEMA = 1
# StageResult's words -> the JSON enum (no spaces: easy to match in jq and CI scripts)
STATUS = {"up to date": "up-to-date", "not run": "not-run"}


def stage_record(name: str, status: str, reasons: Iterable[str] = (),
                 fingerprint: str | None = None, duration: float = 0.0) -> dict[str, Any]:
    return {
        "name": name,
        "status": STATUS.get(status, status),
        "reasons": list(reasons),
        "fingerprint": fingerprint,
        "duration": round(duration, 3),
    }


def from_results(results: Iterable[Any], prints: Mapping[str, str] | None = None
                 ) -> list[dict[str, Any]]:
    """StageResult-like objects (name, status, reasons, seconds) -> stage records."""
    prints = prints or {}
    return [stage_record(r.name, r.status, r.reasons, prints.get(r.name), r.seconds)
            for r in results]


def document(command: str, stages: list[dict[str, Any]], *, ok: bool = True,
             fingerprint: str | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA, "command": command, "ok": ok}
    if all("status" in s for s in stages):  # `fingerprint` records carry keys only
        doc["up_to_date"] = all(s["status"] == "up-to-date" for s in stages)
    return {**doc, **extra, "fingerprint": fingerprint, "stages": stages}


def emit(command: str, stages: list[dict[str, Any]], *, ok: bool = True,
         fingerprint: str | None = None, stream: TextIO | None = None, **extra: Any) -> None:
    """Print one JSON document (the whole of stdout for a --json command)."""
    doc = document(command, stages, ok=ok, fingerprint=fingerprint, **extra)
    (stream or sys.stdout).write(json.dumps(doc, indent=2) + "\n")
