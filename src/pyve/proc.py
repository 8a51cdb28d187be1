"""Every subprocess goes through here: argument lists (never a shell), output captured,
and a failure raised as one line naming the command and its last error line."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pyve import ui
from pyve.errors import PyveError
from pyve.redact import excerpt, redact, redact_args

MAX_EXCERPT = 600  # characters: an error stays one readable line


def last_error_line(output: str) -> str:
    """The part of pip's or uv's output that explains the failure, on one line: pip's
    conflict block, the failing build's own last line, uv's chain of causes, a hash mismatch
    with the package it names -- else the last error line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    found = _pip_conflict(output) or _build_failure(output) or _uv_causes(output)
    if found is None:
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
    found += _unreachable(lines)
    return found if len(found) <= MAX_EXCERPT else found[:MAX_EXCERPT - 3] + "..."


def _pip_conflict(output: str) -> str | None:
    """pip's resolver: "Cannot install ... conflicting dependencies." + its cause block."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "The conflict is caused by:":
            causes = []
            for cause in lines[index + 1:]:
                if not cause.strip():
                    break
                causes.append(cause.strip())
            head = next((ln.strip() for ln in reversed(lines[:index])
                         if "conflicting dependencies" in ln), "ERROR: conflicting dependencies")
            shown = "; ".join(causes[:6]) + (f" (+{len(causes) - 6} more)"
                                              if len(causes) > 6 else "")
            return f"{head} The conflict is caused by: {shown}"
    return None


def _build_failure(output: str) -> str | None:
    """pip: "× <step> did not run successfully." then the step's own output; its last line
    says why (a compiler missing, a build requirement not found, ...)."""
    lines = output.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        step = lines[index].strip()
        if not (step.startswith("×") and step.endswith("did not run successfully.")):
            continue
        if any("See above for output" in ln for ln in lines[index + 1:index + 4]):
            continue  # pip repeats the step at the end, pointing back at the real one
        block = []
        for inner in lines[index + 1:]:
            text = inner.strip()
            if text == "[end of output]":
                break
            if text and not text.startswith(("│", "╰")):
                block.append(text)
        package = next((ln.strip().split(None, 1)[1] for ln in reversed(lines[:index])
                        if ln.strip().startswith(("Processing ", "Building wheel for ",
                                                  "Collecting "))
                        and len(ln.split()) > 1), "a package")
        why = block[-1] if block else "no output"
        what = step.removeprefix("×").removesuffix("did not run successfully.").strip()
        return f"ERROR: building {package.split(' (from ')[0]} failed ({what}): {why}"
    return None


def _uv_causes(output: str) -> str | None:
    """uv: "error: X" then "  cause: Y" lines, each maybe with an indented detail block
    (a hash's Expected/Computed, a build's stderr): one line, the detail's last line."""
    lines = output.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("error: ")), None)
    if start is None or not any(ln.lstrip().startswith("cause: ") for ln in lines[start:]):
        return None
    parts = [lines[start].strip()]
    detail: list[str] = []

    def flush() -> None:
        if detail and detail[0] == "Expected:" and "Computed:" in detail:
            at = detail.index("Computed:")
            parts.append(f"expected {' '.join(detail[1:at])}, got {' '.join(detail[at + 1:])}")
        elif detail and set(detail[-1]) == {"^"}:
            pass  # a parser's echo of the text it read, and a caret under it: file content
        elif detail:
            parts.append(detail[-1])  # a build's stderr: its last line says why
        detail.clear()

    for line in lines[start + 1:]:
        text = line.strip()
        if line.startswith("hint:") or line.startswith("error: "):
            break
        if text.startswith("cause: "):
            flush()
            parts.append(text.removeprefix("cause: "))
        elif text and text != "[stderr]":
            detail.append(text)
    flush()
    text = parts[0]
    for part in parts[1:]:
        text += (" " if text.endswith(".") else ": ") + part
    return text


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
    on_line: Callable[[str], None] | None = None,
) -> str:
    """Run cmd, stdout and stderr as one text. on_line sees each line as it comes (for the
    live display); the whole text is kept, so a failure is explained from all of it."""
    args = [str(a) for a in cmd]
    ui.detail("$ " + redact_args(args))
    try:
        child = subprocess.Popen(
            args, cwd=cwd, env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        raise PyveError(f"{what or args[0]}: cannot run {args[0]}: {exc.strerror}", hint) from None
    lines: list[str] = []
    assert child.stdout is not None
    try:
        with child.stdout:
            for line in child.stdout:
                lines.append(line)
                if on_line is not None:
                    _feed(on_line, line.rstrip("\n"))
        returncode = child.wait()
    except BaseException:  # Ctrl-C, or a bug: never leave the child running (subprocess.run)
        child.kill()
        child.wait()
        raise
    output = "".join(lines)
    if ui.verbose:
        ui.detail(redact(output))
    if returncode != 0:
        error = PyveError(f"{what or Path(args[0]).name} failed: {last_error_line(output)}",
                          hint=hint)
        error.output = output
        raise error
    return output


def _feed(on_line: Callable[[str], None], line: str) -> None:
    try:
        on_line(line)
    except Exception:  # noqa: BLE001 - the display is a nicety: never what fails an install
        pass
