"""The command line: one argparse definition (help and docs come from it), the Backends
Guide's `--init`/`--purge` spellings, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys

from pyve import __version__, words
from pyve.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Interrupted,
    PyveError,
    is_users,
    os_error,
)

# Imports are lazy: a no-op `pyve build` / `pyve run` is answered by pyve.fastpath before
# argparse, rich or doit load (each costs more than the whole fast answer).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn

COMMANDS = ("init", "build", "add", "remove", "lock", "purge", "status", "run", "cache",
            "fingerprint", "shell-hook", "doctor", "completion")
LEGACY = {"--init": "init", "--purge": "purge"}
# Commands that do not look for the project: init makes it where it is asked to (commands/
# init.py), the others have none. Every other one runs in the folder projectroot.find names.
OWN_FOLDER = ("init", "cache", "completion")
# ... and of those, the ones with nothing to do outside a project (status, doctor and purge
# report on the folder they stand in).
NEEDS_PROJECT = ("build", "run", "shell-hook", "lock", "fingerprint")


_parser_class: type[argparse.ArgumentParser] | None = None
_lean_parse = False  # parsing with the one command's parser (parse): never print, never exit


class _Reparse(Exception):
    """The one-command parser met something only the full parser answers (see parse)."""


class _Unused:
    """The parser of a command that is not being run: its arguments are not defined."""

    def add_argument(self, *args: object, **kwargs: object) -> None: ...

    def add_mutually_exclusive_group(self, *args: object, **kwargs: object) -> _Unused:
        return self


def __getattr__(name: str) -> object:
    """`pyve.cli.Parser`, defined on first use (PEP 562): it needs argparse."""
    if name == "Parser":
        return _make_parser_class()
    raise AttributeError(name)


def _make_parser_class() -> type[argparse.ArgumentParser]:
    global _parser_class
    if _parser_class is None:
        _parser_class = _define_parser()
    return _parser_class


def _define_parser() -> type[argparse.ArgumentParser]:
    import argparse
    import re

    from pyve import ui

    class Parser(argparse.ArgumentParser):
        """argparse, but an unknown word is one line naming the nearest valid spelling, exit 2.
        No abbreviations: `--auto-install-dep` is a typo to report, not a prefix to guess."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("allow_abbrev", False)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            if _lean_parse:
                raise _Reparse
            argv = getattr(self, "_argv", [])
            command = next((a for a in argv if a in COMMANDS), None)
            choice = re.search(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)",
                               message)
            unknown = re.search(r"unrecognized arguments: (\S+)", message)
            if choice and choice.group(1) == "COMMAND":
                word = choice.group(2)
                message = self._misplaced(argv[:argv.index(word)] if word in argv else [],
                                          command) \
                    or f"unknown command {word!r}" + _suggest(word, COMMANDS)
            elif choice:  # `--shell tcsh`: the option's value, not a command
                word, names = choice.group(2), re.findall(r"'([^']*)'", choice.group(3))
                message = f"{choice.group(1)}: {word!r} is not one of {', '.join(names)}" \
                    + _suggest(word, names)
            elif unknown:
                word = unknown.group(1).split("=")[0]
                where = f" for `{self.prog} {command}`" if command else ""
                misplaced = self._misplaced([word], None) if not command else None
                if command and word in self._all_options(command) and word in argv \
                        and argv.index(word) < argv.index(command):
                    message = (f"{word!r} goes after the command: "
                               f"`{self.prog} {command} {word}`")
                elif misplaced:
                    message = misplaced
                else:
                    # never the word just rejected (valid for another command, say)
                    others = [o for o in self._all_options(command) if o != word]
                    message = f"unknown option {word!r}{where}" + _suggest(word, others)
            help_of = f"{self.prog} {command}" if command else self.prog
            ui.error(f"{message} (see `{help_of} --help`)")  # one line
            raise SystemExit(EXIT_USAGE)

        def _misplaced(self, before: list[str], command: str | None) -> str | None:
            """`pyve --backend venv`: a command's option given before any command (so its
            value was read as the command)."""
            own = {o for a in self._actions for o in a.option_strings}
            for word in before:
                option = word.split("=")[0]
                if option.startswith("-") and option not in own and option not in LEGACY:
                    users = [c for c in COMMANDS if option in self._all_options(c)]
                    if command in users:
                        return (f"{option!r} goes after the command: "
                                f"`{self.prog} {command} {option} ...`")
                    if users:
                        example = "build" if "build" in users else users[0]
                        return (f"{option!r} is an option of a command, not of pyve itself: "
                                f"put it after one, e.g. `{self.prog} {example} {option} ...`")
            return None

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if _lean_parse:
                raise _Reparse
            super().exit(status, message)

        def _print_message(self, message: str, file: Any = None) -> None:
            if _lean_parse:  # help, usage, --version: the full parser's to print
                raise _Reparse
            super()._print_message(message, file)

        def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
            self._argv = list(sys.argv[1:] if args is None else args)
            return super().parse_args(args, namespace)

        def _all_options(self, command: str | None = None) -> list[str]:
            """The options valid here: the global ones, and `command`'s (every command's
            when it is not known)."""
            options = [*LEGACY, *(o for a in self._actions for o in a.option_strings)]
            for action in self._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for name, sub in action.choices.items():
                        if command in (None, name):
                            options += [o for a in sub._actions for o in a.option_strings]
            return options

    return Parser


def _suggest(word: str, choices: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _add_decision_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", metavar="venv|micromamba|auto",
                   help="override backend detection (also: PYVE_BACKEND)")
    p.add_argument("--python", metavar="VERSION", help="Python version, e.g. 3.11 or 3.11.7")
    deps = p.add_mutually_exclusive_group()
    deps.add_argument("--auto-install-deps", action="store_true",
                      help="install pip dependencies without asking")
    deps.add_argument("--no-install-deps", action="store_true",
                      help="do not install pip dependencies")


def _add_place_options(p: argparse.ArgumentParser) -> None:
    """Where `add` and `remove` edit (default: the file the project already uses)."""
    place = p.add_mutually_exclusive_group()
    place.add_argument("--extra", metavar="NAME",
                       help="[project.optional-dependencies] NAME of pyproject.toml "
                            "(selected in pyve.toml)")
    place.add_argument("--group", metavar="NAME",
                       help="[dependency-groups] NAME of pyproject.toml (selected in pyve.toml)")
    place.add_argument("--pip", action="store_true",
                       help="the pip: section of environment.yml (created if absent)")


def parse(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parsed command line. argparse spends ~10 ms defining all thirteen commands, most
    of the parse: the command named is parsed by a parser that defines it alone, and
    anything that parser would print or reject (help, a typo, an option of another command)
    is parsed again by the full one, so messages and help are the same as ever."""
    global _lean_parse
    command = next((a for a in argv if a in COMMANDS), None)
    if command is not None:
        _lean_parse = True
        try:
            lean = build_parser(only=command)
            return lean, lean.parse_args(argv)
        except _Reparse:
            pass
        finally:
            _lean_parse = False
    parser = build_parser()
    return parser, parser.parse_args(argv)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; `only`: just that command's arguments (see parse)."""
    import argparse
    from typing import cast

    Parser = _make_parser_class()  # noqa: N806 - the class, defined on first use
    parser = Parser(
        prog="pyve",
        description="Give a Python project its environment (venv or micromamba) in one command, "
        "and keep it right as the project changes.",
    )
    parser.add_argument("--version", action="version", version=f"pyve {__version__}")
    for dest, spellings, help_text in words.SWITCHES:
        parser.add_argument(*spellings, dest=dest, action="store_true", help=help_text)
    parser.add_argument(words.DIRECTORY, dest="directory", metavar="DIR",
                        help=words.DIRECTORY_HELP)
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND", parser_class=Parser)

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if only not in (None, name):
            return cast(argparse.ArgumentParser, _Unused())
        return sub.add_parser(name, **kwargs)

    p = command("init", help="decide the backend and Python, record them, build the env")
    p.add_argument("version", nargs="?", help="Python version (same as --python)")
    _add_decision_options(p)
    p.add_argument("--force", action="store_true",
                   help="rebuild the environment from the current files (every stage runs); "
                   "replace a .venv pyve did not make (asks first)")
    p.add_argument("--no-direnv", action="store_true",
                   help="do not write a direnv .envrc (written only when none exists)")

    p = command("build", help="bring the environment up to date (only stale stages run)")
    _add_decision_options(p)
    p.add_argument("--force", action="store_true",
                   help="rebuild every stage; replace a .venv pyve did not make (asks first)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="list the stages that would run, and why; change nothing")
    mode.add_argument("--check", action="store_true",
                      help="exit 0 if every stage is up to date, 1 (listing why) if not; "
                      "change nothing")
    mode.add_argument("--repair", action="store_true",
                      help="after the build, reinstall exactly the packages whose files in "
                      "the environment were deleted or edited (checked as `doctor --deep` "
                      "checks them)")
    p.add_argument("--frozen", action="store_true",
                   help="install from the existing lock only; fail if it is missing or stale")
    p.add_argument("--exact", action="store_true",
                   help="also remove the packages installed by hand (a plain build keeps them)")
    p.add_argument("--json", action="store_true", help="machine-readable output (docs/json.md)")

    p = command("add", help="record requirements in the project's file, then build")
    p.add_argument("specs", nargs="*", metavar="SPEC",
                   help="a requirement (`httpx`, `httpx>=0.27`; a conda spec with the "
                        "micromamba backend); a bare name gets `>=` the version it resolves to")
    _add_place_options(p)
    p.add_argument("--installed", action="store_true",
                   help="record the packages installed by hand (`name>=version`), "
                        "not their dependencies")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")

    p = command("remove", help="take requirements out of the project's file, then build")
    p.add_argument("names", nargs="+", metavar="NAME", help="the name as listed in the file")
    _add_place_options(p)
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")

    p = command("lock", help="write the lock file (requirements.lock.txt / conda-lock.yml)")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")
    p.add_argument("--platform", action="append", metavar="PLATFORM",
                   help="conda platform to lock (repeatable), e.g. linux-64, osx-arm64, win-64")
    p.add_argument("--check", action="store_true",
                   help="exit 0 if the lock is fresh for every platform, 1 if not; change nothing")
    p.add_argument("--json", action="store_true", help="with --check: machine-readable output")

    p = command("cache", help="the shared conda package cache, and the remote cache")
    p.add_argument("action", choices=["clean", "info", "push", "pull"],
                   help="clean: empty the package cache; info: its size, and the remote "
                        "cache's entry for this project; push/pull: the built env to/from the "
                        "remote cache (remote_cache in pyve.toml, or PYVE_REMOTE_CACHE)")

    p = command("purge", help="remove what pyve made (env, .pyve/, .gitignore lines)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed")
    p.add_argument("--unused", action="store_true",
                   help="remove only conda envs under .pyve/envs/ that nothing points at")

    p = command("status", help="backend, python, env and each stage: fresh or stale, why")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("fingerprint",
                       help="print a CI cache key for the environment (content, platform, Python)")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--stage", metavar="NAME", help="the key of one stage")
    which.add_argument("--all", action="store_true", help="every stage's key, one per line")
    p.add_argument("--frozen", action="store_true", help="the keys of a --frozen build")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("run", help="run a command inside the environment")
    p.add_argument("--frozen", action="store_true",
                   help="run as the environment is: no up-to-date check, no build")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments")

    p = command("shell-hook", help="print shell code that activates the environment")
    p.add_argument("--shell", choices=["bash", "zsh", "fish"],
                   help="shell syntax (default: from $SHELL, else bash)")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")

    p = command("doctor", help="check the environment, locks, disk use and .env")
    p.add_argument("--backend", metavar="venv|micromamba|auto", help="override the backend")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--deep", action="store_true",
                   help="also compare every conda package file's sha256 with its record "
                        "(slower; the default compares sizes)")

    p = command("completion", help="print a shell completion script")
    p.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete for")
    for defined in sub.choices.values():  # `pyve build -q` works as well as `pyve -q build`
        for dest, spellings, help_text in words.SWITCHES:
            defined.add_argument(*spellings, dest=dest, action="store_true",
                                 default=argparse.SUPPRESS,
                                 # shown where it answers something: init's and build's
                                 help=help_text if spellings == words.YES else argparse.SUPPRESS)
    return parser


def normalize_argv(argv: list[str]) -> list[str]:
    """`pyve --init 3.11 --backend venv` -> `pyve init 3.11 --backend venv` (the Guide's form)."""
    if any(a in COMMANDS for a in argv):
        first = next(a for a in argv if a in COMMANDS or a in LEGACY)
        if first in COMMANDS:
            return argv
    for flag, command in LEGACY.items():
        if flag in argv:
            rest = [a for a in argv if a != flag]
            # global options stay before the command; everything else belongs to it
            head: list[str] = []
            while rest and rest[0] in (*words.GLOBAL_SWITCHES, words.DIRECTORY):
                head.append(rest.pop(0))
                if head[-1] == words.DIRECTORY and rest:
                    head.append(rest.pop(0))
            return [*head, command, *rest]
    return argv


def main(argv: list[str] | None = None) -> int:
    code = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None and "rattler" in sys.modules:  # the `pyve` command, after a conda stage
        _exit_before_finalizing(code)
    return code


def _exit_before_finalizing(code: int) -> None:
    """py-rattler's native (tokio) threads can still hold Python objects when the interpreter
    finalizes, and one releasing them then aborts the process after the work is done
    (`PyGILState_Release: thread state ... must be current when releasing`, exit 134, or a
    segfault: 2-3 of 60 solves of a 200,000-record channel; CPython's gh-124619 class of
    crash). Everything is written by now: run the exit handlers (coverage's among them),
    flush, and leave without finalizing."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nobody is reading
            pass
    os._exit(code)


def _main(argv: list[str]) -> int:
    from pyve import fastpath

    try:
        fast = fastpath.check(argv)  # a no-op build / run in an up-to-date env: answered here
    except BrokenPipeError:  # `pyve build | head -1`: see below
        _stdout_to_devnull()
        return EXIT_FAILURE
    if fast is not None:
        return fast
    _stop_on_signals()
    import importlib
    import traceback

    from pyve import ui

    parser, args = parse(normalize_argv(argv))
    ui.quiet, ui.verbose = args.quiet, args.verbose
    if args.offline:  # for every layer and every process pyve starts (offline.py)
        os.environ["PYVE_OFFLINE"] = "1"
    ui.json_output = bool(getattr(args, "json", False))
    if not args.command_name:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.directory:
            _chdir(args.directory)
        if args.command_name == "run" and not args.command:
            raise PyveError("pyve run needs a command", hint="e.g. `pyve run python -m pytest`",
                            exit_code=EXIT_USAGE)
        args.start_dir = os.getcwd()  # where `pyve run` runs its command
        if args.command_name not in OWN_FOLDER:
            _enter_project(args.command_name)
        # `shell-hook` -> pyve.commands.shell_hook
        module = importlib.import_module(f"pyve.commands.{args.command_name.replace('-', '_')}")
        return int(module.run(args))
    except PyveError as exc:
        if args.debug:
            traceback.print_exc()
        ui.error(exc.message, exc.hint)
        return exc.exit_code
    except BrokenPipeError:
        # the reader went away (`pyve build | head`): nothing to report to it, and not a bug.
        # What pyve was doing finished or is repaired by the next build, as after Ctrl-C.
        _stdout_to_devnull()
        return EXIT_FAILURE
    except OSError as exc:
        if not is_users(exc):
            return _internal_error(args.debug)
        if args.debug:
            traceback.print_exc()
        error = os_error(exc)  # a full disk, a read-only project, a file in pyve's way
        ui.error(error.message, error.hint)
        return error.exit_code
    except KeyboardInterrupt as exc:
        try:  # after SIGHUP the terminal may be gone: nobody to tell
            ui.err().print("interrupted; the next `pyve build` repairs what was left unfinished")
        except OSError:
            pass
        return 128 + exc.signum if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - one line + a log file, never a raw traceback
        return _internal_error(args.debug)


def _internal_error(debug: bool) -> int:
    """A bug: one line, and the traceback in a log file (or on screen with --debug)."""
    from pyve import ui

    if debug:
        raise  # called from an except block: the exception being handled
    log = _write_crash_log()
    ui.error(f"internal error: {sys.exc_info()[1]!r}",
             hint=f"details in {log}; please attach it to a bug report")
    return 1


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP stop a build as Ctrl-C does: Python's default ends the process where
    it stands, with the cursor left hidden and nothing said."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:  # `nohup pyve build` keeps SIGHUP off
            signal.signal(signum, stop)


def _stdout_to_devnull() -> None:
    """Python flushes stdout again at exit: point it at /dev/null so that flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _chdir(directory: str) -> None:
    try:
        os.chdir(directory)
    except OSError as exc:
        raise PyveError(f"-C {directory}: {exc.strerror}", hint="name an existing project folder",
                        exit_code=EXIT_USAGE) from None


def _enter_project(command: str) -> None:
    """Work in the project's folder, found from here up (projectroot.py); where there is
    none, `command` either reports on this folder or says there is no project."""
    from pyve import projectroot

    start = os.getcwd()
    root = projectroot.find(start)
    if root is None:
        if command in NEEDS_PROJECT:
            raise PyveError(
                f"no project in {start} or above: no pyve.toml, requirements.txt, "
                "pyproject.toml, environment.yml or other project file",
                hint="`pyve init` makes one here (or `pyve -C DIR ...` names the project)")
        return
    if root != start:
        os.chdir(root)


def _write_crash_log() -> str:
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="pyve-crash-", suffix=".log")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"pyve {__version__}, python {sys.version}\n{traceback.format_exc()}")
    return path
