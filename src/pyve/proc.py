"""Every subprocess goes through here: argument lists (never a shell), output captured,
and a failure raised as one line naming the command and its last error line."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyve import ui
from pyve.errors import PyveError
from pyve.redact import excerpt, redact, redact_args


def last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    found = lines[-1] if lines else "no output"
    for line in reversed(lines):
        if line.lower().startswith("error") or "error:" in line.lower():
            found = line
            break
    found = _INVALID_REQUIREMENT.sub(lambda m: f"{m.group(1)}'{excerpt(m.group(2))}'", found)
    if "DO NOT MATCH THE HASHES" in found:
        # pip names the packages on the lines after its shouting one: name them on ours
        names = [ln.split(" from ", 1)[0] for ln in lines[lines.index(found) + 1:]
                 if " from " in ln and ln.endswith(":")]
        return (f"ERROR: hash mismatch for {', '.join(names) or 'a package'}: its file "
                "differs from the one that was locked (changed or tampered with)")
    return found + _unreachable(lines)


# pip quotes the whole offending line of a requirements file: `-r /proc/self/environ` would
# put every environment variable on our one line. Quote a short excerpt of it instead.
_INVALID_REQUIREMENT = re.compile(
    r"(Invalid requirement: )'(.*)'(?=(?: \(from line \d+ of .*\))?$)")


# pip says "No matching distribution" when the index could not be reached at all; the
# reason is only in an earlier retry warning: keep it on the one line we print.
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+|Read timed out|timed out")


def _unreachable(lines: list[str]) -> str:
    for line in lines:
        if "NewConnectionError" in line or "ConnectTimeoutError" in line or \
                "ReadTimeoutError" in line:
            index = next((ln.split(":", 1)[1].strip() for ln in lines
                          if ln.startswith("Looking in indexes:")), "the index")
            reason = _ERRNO.search(line)
            return f" ({index} unreachable: {reason.group(0) if reason else 'no connection'})"
    return ""


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    what: str | None = None,
    hint: str | None = None,
) -> str:
    args = [str(a) for a in cmd]
    ui.detail("$ " + redact_args(args))
    try:
        result = subprocess.run(
            args, cwd=cwd, env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        )
    except OSError as exc:
        raise PyveError(f"{what or args[0]}: cannot run {args[0]}: {exc.strerror}", hint) from None
    if ui.verbose:
        ui.detail(redact(result.stdout))
    if result.returncode != 0:
        raise PyveError(f"{what or Path(args[0]).name} failed: {last_error_line(result.stdout)}",
                        hint=hint)
    return result.stdout
