"""`pyve fingerprint`: a CI cache key for the environment, or one per stage.

Keys hash content only (the inputs' bytes, portable settings, the platform, the Python
version, upstream keys): the same project cloned to another path gives the same keys, and
editing a stage's inputs changes that stage's key and those downstream of it, no other.
"""

from __future__ import annotations

from argparse import Namespace

from pyve import report
from pyve.commands.common import load_backend, make_decision
from pyve.errors import UsageError
from pyve.fingerprint import platform_tag
from pyve.graph import env_fingerprint, fingerprints
from pyve.project import Project


def run(args: Namespace) -> int:
    project = Project.load()
    decision = make_decision(project, args, interactive=False, may_install=False)
    backend = load_backend(decision.backend)
    stages = backend.stages(project, decision)
    prints = fingerprints(project, stages)
    key = env_fingerprint(prints)
    wanted = getattr(args, "stage", None)
    if wanted and wanted not in prints:
        raise UsageError(f"no stage {wanted!r}", hint="stages: " + ", ".join(prints))
    if getattr(args, "json", False):
        records = [report.stage_record(name, "", fingerprint=value)
                   for name, value in prints.items() if not wanted or name == wanted]
        for record in records:  # keys only: `pyve status --json` says fresh or stale
            del record["status"], record["reasons"], record["duration"]
        report.emit("fingerprint", records, fingerprint=key, platform=platform_tag(),
                    python=decision.python_version, backend=decision.backend)
    elif wanted:
        print(prints[wanted])
    elif getattr(args, "all", False):
        for name, value in prints.items():
            print(f"{name} {value}")
        print(f"env {key}")
    else:
        print(key)
    return 0
