"""Every subprocess goes through here: argument lists (never a shell), output captured,
and a failure raised as one line naming the command and its last error line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyve import ui
from pyve.errors import PyveError


def last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.lower().startswith("error") or "error:" in line.lower():
            return line
    return lines[-1] if lines else "no output"


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    what: str | None = None,
    hint: str | None = None,
) -> str:
    args = [str(a) for a in cmd]
    ui.detail("$ " + " ".join(args))
    try:
        result = subprocess.run(
            args, cwd=cwd, env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        )
    except OSError as exc:
        raise PyveError(f"{what or args[0]}: cannot run {args[0]}: {exc.strerror}", hint) from None
    if ui.verbose:
        ui.detail(result.stdout)
    if result.returncode != 0:
        raise PyveError(f"{what or Path(args[0]).name} failed: {last_error_line(result.stdout)}",
                        hint=hint)
    return result.stdout
