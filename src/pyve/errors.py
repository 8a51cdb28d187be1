"""The one error type for "the user must act", and the exit codes pyve promises."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: every command imports this module, the fast path too
if TYPE_CHECKING:
    from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1  # a build, check or command failed
EXIT_USAGE = 2  # the command line or a setting was invalid
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143, SIGHUP 129


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be: the same clean-up runs (children
    killed, the live line and the cursor restored), then exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class PyveError(Exception):
    """A problem the user must act on: one line (+ an optional hint), exit code `exit_code`."""

    def __init__(
        self, message: str, hint: str | None = None, exit_code: int = EXIT_FAILURE
    ) -> None:
        from pyve.redact import one_line  # lazily: `re` is not on the fast path

        message = one_line(message)  # never a traceback, a file's whole text, or a secret
        super().__init__(message)
        self.message = message
        self.hint = one_line(hint) if hint else hint
        self.exit_code = exit_code
        self.results: list[Any] = []  # a failed build's per-stage results (build --json)
        self.output = ""  # a failed command's whole output: read for a hint, never printed


def first_line(exc: BaseException) -> str:
    """What an exception says, its first line only (its type's name if it says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_users(exc: BaseException) -> bool:
    """An OSError the user fixes (a full disk, a read-only folder, a file in the way)."""
    import errno

    codes = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EISDIR,
             errno.ENOTDIR, errno.EEXIST}
    return isinstance(exc, OSError) and exc.errno in codes


def os_error(exc: OSError) -> PyveError:
    """A file-system failure as the user's problem to fix: the path, what is wrong, a hint.
    (The next build repairs whatever a failed write left unfinished.)"""
    import errno
    import os

    path = _shown(exc.filename)
    code = exc.errno
    again = "then run the command again"
    if code == errno.ENOTDIR and exc.filename:
        path = _shown(_first_non_folder(os.fsdecode(exc.filename)))
    if code in (errno.ENOSPC, errno.EDQUOT):
        reason, hint = "no space left on the device", f"free some disk space, {again}"
    elif code == errno.EROFS:
        reason, hint = "read-only file system", \
            "pyve writes .pyve/, the environment and the locks in the project: make it " \
            f"writable, {again} (`pyve run --frozen` runs without writing)"
    elif code in (errno.EACCES, errno.EPERM):
        reason, hint = "permission denied", \
            f"pyve needs to write there: fix the permissions, {again}"
    elif code == errno.EISDIR:
        reason, hint = "is a folder where pyve expects a file", \
            f"move it away (pyve never deletes what it did not make), {again}"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        reason, hint = "is a file where pyve expects a folder", \
            f"move it away (pyve never deletes what it did not make), {again}"
    else:
        reason, hint = exc.strerror or type(exc).__name__, None
    return PyveError(f"{path}: {reason}" if path else reason, hint=hint)


def _shown(filename: object) -> str:
    """A path as the user thinks of it: relative to the project (the working folder)."""
    import os

    if not filename:
        return ""
    path = os.fsdecode(filename)  # type: ignore[arg-type]
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _first_non_folder(path: str) -> str:
    """`.pyve/stamps/x` fails with ENOTDIR when `.pyve/stamps` is a file: name that one."""
    import os

    parts = os.path.abspath(path).split(os.sep)
    for end in range(2, len(parts) + 1):
        candidate = os.sep.join(parts[:end])
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            return candidate
    return path


class UsageError(PyveError):
    """Invalid command line, backend name or setting: exit 2, nothing touched."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, exit_code=EXIT_USAGE)
