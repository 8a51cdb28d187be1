"""cli.normalize_argv (the Guide's --init/--purge) and one-line usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve import cli, ui


@pytest.mark.parametrize(("argv", "expected"), [
    (["--init"], ["init"]),
    (["--init", "3.11"], ["init", "3.11"]),
    (["--init", "3.11", "--backend", "venv"], ["init", "3.11", "--backend", "venv"]),
    (["-v", "--init", "--yes"], ["-v", "--yes", "init"]),  # --yes is global too
    (["-C", "dir", "-q", "--purge"], ["-C", "dir", "-q", "purge"]),
    (["--purge", "--dry-run"], ["purge", "--dry-run"]),
    (["init", "3.11"], ["init", "3.11"]),
    (["run", "tool", "--init"], ["run", "tool", "--init"]),  # a command's own argument
    (["build"], ["build"]),
    ([], []),
])
def test_normalize_argv(argv: list[str], expected: list[str]) -> None:
    assert cli.normalize_argv(argv) == expected


@pytest.mark.parametrize(("argv", "message"), [
    (["biuld"], "unknown command 'biuld'; did you mean 'build'?"),
    (["--inti"], "unknown option '--inti'; did you mean '--init'?"),
    (["init", "--auto-instal-deps"], "did you mean '--auto-install-deps'?"),
    (["xyzzy"], "unknown command 'xyzzy'"),
    # a command's option before the command: where it goes, never a wrong guess
    (["--json", "build"], "'--json' goes after the command: `pyve build --json`"),
    (["--backend", "venv"], "'--backend' is an option of a command, not of pyve itself"),
    (["--backend", "venv", "build"], "'--backend' goes after the command"),
    (["--json"], "'--json' is an option of a command"),
    # an option's value that is not one of its choices is not a command
    (["shell-hook", "--shell", "tcsh"], "--shell: 'tcsh' is not one of bash, zsh, fish"),
    (["cache", "purge"], "action: 'purge' is not one of clean, info"),
])
def test_usage_error_is_one_line_exit_2(argv: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # should parsing ever succeed, nothing lands in the repo
    ui.reset()
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    ui.reset()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_every_command_has_a_parser() -> None:
    parser = cli.build_parser()
    for name in ("init", "build", "lock", "purge", "status", "run"):
        assert parser.parse_args([name] + (["x"] if name == "run" else [])).command_name == name
    args = parser.parse_args(cli.normalize_argv(["--init", "3.12", "--no-install-deps", "-y"]))
    assert (args.version, args.no_install_deps, args.yes) == ("3.12", True, True)


@pytest.mark.parametrize(("argv", "word"), [
    (["purge", "--force"], "--force"),  # valid for build and init, not for purge
    (["status", "--frozen"], "--frozen"),
    (["build", "--unused"], "--unused"),  # purge's
])
def test_the_hint_never_suggests_the_option_just_rejected(
        argv: list[str], word: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`pyve purge --yes` printed "unknown option '--yes'; did you mean '--yes'?"."""
    monkeypatch.chdir(tmp_path)
    ui.reset()
    with pytest.raises(SystemExit):
        cli.main(argv)
    ui.reset()
    err = capsys.readouterr().err.strip()
    assert f"unknown option {word!r} for `pyve {argv[0]}`" in err
    assert f"did you mean {word!r}" not in err
    assert f"see `pyve {argv[0]} --help`" in err


def test_every_command_that_can_prompt_accepts_yes() -> None:
    """init and build ask (backend, pip dependencies, replacing a .venv pyve did not make);
    the other commands never prompt."""
    parser = cli.build_parser()
    for name in ("init", "build"):
        for flag in ("-y", "--yes"):
            assert parser.parse_args([name, flag]).yes is True


def test_an_error_line_is_at_most_400_characters_prefix_included(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`-C` with 5,000 characters: the line was 409 characters ("error: " + a 400-character
    message); the cap is the whole line's, as docs/errors.md says."""
    from pyve.redact import MAX_LINE

    monkeypatch.chdir(tmp_path)
    ui.reset()
    assert cli.main(["-C", "./" * 2500 + "missing", "build"]) == 2
    ui.reset()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: -C ./././") and lines[1].startswith("  hint: ")
    assert all(len(line) <= MAX_LINE for line in lines), [len(line) for line in lines]


@pytest.mark.parametrize("argv", [
    ["build"], ["-q", "build", "-v", "--force"], ["build", "--dry-run", "--python", "3.12"],
    ["init", "3.11", "--backend", "venv", "-y"], ["run", "python", "-h"],
    ["shell-hook", "--shell", "bash"], ["status", "--json"], ["lock", "--check"],
    ["add", "idna", "--extra", "dev"], ["doctor"], ["completion", "bash"],
])
def test_one_command_parser_reads_what_the_full_one_reads(argv: list[str]) -> None:
    """cli.parse defines only the command named (argparse's definitions of all thirteen are
    most of a parse); what it reads is what the whole parser reads."""
    full = cli.build_parser().parse_args(argv)
    parser, args = cli.parse(argv)
    assert vars(args) == vars(full)
    subparsers = [a for a in parser._actions if a.dest == "command_name"]
    assert list(subparsers[0].choices) == [args.command_name]  # the lean parse answered


@pytest.mark.parametrize("argv", [
    ["build", "--bogus"], ["purge", "--force"], ["-h", "build"], ["build", "--help"],
    ["--version", "build"], ["init", "build"], ["run"],
    ["-C", "init", "build"],  # a directory named like another command: read by the full one
])
def test_what_the_one_command_parser_cannot_answer_goes_to_the_full_one(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Help, usage errors and hints come from the full parser, printed once."""
    ui.reset()  # ui binds the stream it first writes to: capsys's of this test
    try:
        full_out: object = vars(cli.build_parser().parse_args(argv))
    except SystemExit as exc:
        full_out = exc.code
    full_printed = capsys.readouterr()
    ui.reset()
    try:
        lean_out: object = vars(cli.parse(argv)[1])
    except SystemExit as exc:
        lean_out = exc.code
    ui.reset()
    assert lean_out == full_out
    assert capsys.readouterr() == full_printed


_EXIT_PROBE = """
import atexit, sys
if sys.argv[1] == "rattler":
    import rattler  # noqa: F401 - a conda build has it loaded
class Finalized:
    def __del__(self):
        print("finalized", flush=True)
keep = Finalized()
atexit.register(lambda: print("exit handler ran", flush=True))
sys.argv = ["pyve"]  # the help, then exit code 2, through main's return
from pyve.cli import main
raise SystemExit(main())
"""


@pytest.mark.parametrize("loaded", ["rattler", "plain"])
def test_the_command_leaves_without_finalizing_once_rattler_is_loaded(loaded: str) -> None:
    """rattler's native threads can abort a finalizing interpreter (exit 134 after the work
    is done): with rattler loaded, `pyve` runs the exit handlers (coverage's too), flushes
    and leaves without finalizing; without it, it exits as any Python program does."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _EXIT_PROBE, loaded], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "usage: pyve" in done.stdout and "exit handler ran" in done.stdout
    assert ("finalized" in done.stdout) is (loaded == "plain")
