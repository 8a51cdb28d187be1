"""The one error type for "the user must act", and the exit codes pyve promises."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: every command imports this module, the fast path too
if TYPE_CHECKING:
    from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1  # a build, check or command failed
EXIT_USAGE = 2  # the command line or a setting was invalid
EXIT_INTERRUPTED = 130


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


class UsageError(PyveError):
    """Invalid command line, backend name or setting: exit 2, nothing touched."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, exit_code=EXIT_USAGE)
