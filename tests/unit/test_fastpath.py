"""The fast path never calls an env up to date when doit would run a stage.

One real build, then a series of mutations; after each, the fast answer (snapshot + stats)
is compared with `plan()`'s (doit's content checks): fast "up to date" => plan "up to date".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

import pytest

from pyve import fastpath
from pyve.commands.common import load_backend, make_decision
from pyve.graph import plan
from pyve.project import Project
from tests.conftest import PyveRunner


def fast_fresh(root: Path) -> bool:
    snapshot = fastpath._load(str(root / fastpath.SNAPSHOT))
    return snapshot is not None and fastpath.matches(str(root), snapshot)


def plan_fresh(root: Path) -> bool:
    project = Project.load(root)
    decision = make_decision(project, Namespace(), interactive=False)
    stages = load_backend(decision.backend).stages(project, decision)
    return all(r.status == "up to date" for r in plan(project, stages))


def agree(root: Path) -> tuple[bool, bool]:
    fast, full = fast_fresh(root), plan_fresh(root)
    assert not fast or full, "fast path says up to date, doit would run a stage"
    return fast, full


def test_fast_answer_implies_plan_answer(project: Path, pyve: PyveRunner,
                                         monkeypatch: pytest.MonkeyPatch,
                                         same_env: None) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    assert agree(project) == (True, True)

    def rebuild() -> None:
        pyve("build", check=True)
        assert agree(project) == (True, True)

    mutations: list[tuple[str, Callable[[], None], tuple[bool, bool] | None]] = [
        ("edit requirements", lambda: (project / "requirements.txt").write_text(
            "gamma\nalpha==1.0\n"), (False, False)),
        ("same bytes, new mtime", lambda: (project / "requirements.txt").write_text(
            "gamma\n"), None),
        ("touch", lambda: os.utime(project / "requirements.txt"), (False, True)),
        ("delete lock", lambda: (project / "requirements.lock.txt").unlink(), (False, False)),
        ("edit pyve.toml", lambda: (project / "pyve.toml").write_text(
            'backend = "venv"\ninstall_deps = false\n'), (False, False)),
        ("restore pyve.toml", lambda: (project / "pyve.toml").write_text(
            'backend = "venv"\ninstall_deps = true\n'), None),
        ("delete state", lambda: (project / ".pyve/state.json").unlink(), (False, False)),
        ("delete .venv", lambda: shutil.rmtree(project / ".venv"), (False, False)),
    ]
    for name, mutate, expected in mutations:
        mutate()
        answer = agree(project)
        if expected is not None:
            assert answer == expected, name
        rebuild()

    monkeypatch.setenv("PYVE_INSTALLER", "pip")  # pip-deps config changes
    assert agree(project) == (False, False)
    monkeypatch.setenv("PYVE_BACKEND", "venv")  # same backend, other reason: still fast-miss
    monkeypatch.delenv("PYVE_INSTALLER")
    assert agree(project) == (False, True)


def test_interpreter_upgrade_in_place(project: Path, pyve: PyveRunner, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      sandbox_env: dict[str, str]) -> None:
    """A copy of this interpreter stands in for one a package manager upgrades in place."""
    bindir = tmp_path / "pybin"
    bindir.mkdir()
    minor = "python{}.{}".format(*sys.version_info[:2])
    base = Path(sys.base_prefix) / "bin" / minor
    interp = bindir / minor
    shutil.copy2(os.path.realpath(base), interp)
    probe = subprocess.run([interp, "-c", "import sys; print(sys.version)"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("this interpreter cannot run from a copy")
    version = "{}.{}.{}".format(*sys.version_info[:3])
    env = {**sandbox_env, "PATH": f"{bindir}{os.pathsep}{sandbox_env['PATH']}",
           "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key not in env:
            monkeypatch.delenv(key)
    (project / "pyve.toml").write_text(f'backend = "venv"\npython = "{version}"\n')
    pyve("build", env=env, check=True)
    if "pybin" not in (project / ".pyve/decision.json").read_text():
        pytest.skip("another interpreter of the same version was preferred")
    assert agree(project) == (True, True)
    stat = interp.stat()
    os.utime(interp, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # "upgraded"
    assert agree(project) == (False, False)


def test_no_snapshot_without_watch(tmp_path: Path) -> None:
    """A stage whose checks cannot be reduced to stats: no fast path at all."""
    from pyve.backends.base import Stage

    stages = [Stage(name="x", action=lambda: None, checks=[lambda: None])]
    assert fastpath.input_paths(Project(tmp_path), stages) is None


def test_parse_only_plain_forms() -> None:
    assert fastpath._parse(["build"])[0] == "build"  # type: ignore[index]
    assert fastpath._parse(["-q", "-C", "/", "build", "--json"])[1] == "/"  # type: ignore[index]
    assert fastpath._parse(["-C", "/nonexistent-pyve-dir", "build"]) is None  # full path says
    assert fastpath._parse(["--backend", "venv", "build"]) is None
    assert fastpath._parse(["status"]) is None
    assert fastpath.check(["build", "--force"]) is None
    assert fastpath.check(["run", "--frozen", "python"]) is None


def test_loader_rejects_junk(tmp_path: Path) -> None:
    path = tmp_path / "fast.json"
    for text in ("", "{", "[1]", '{"a": 1} x', "\x00"):
        path.write_text(text)
        assert fastpath._load(str(path)) is None
    path.write_text('{"a": [1, 2.5, null, true, "\\u00e9"]}')
    assert fastpath._load(str(path)) == {"a": [1, 2.5, None, True, "é"]}


def test_shell_hook_fast_and_slow_agree(project: Path, pyve: PyveRunner,
                                        capsys: pytest.CaptureFixture[str],
                                        same_env: None) -> None:
    """`pyve shell-hook` answered from the snapshot prints exactly the full path's hook."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    assert fast_fresh(project)
    for form in (["--shell", "bash"], ["--shell=zsh"], ["--shell", "fish"], []):
        slow = pyve("shell-hook", *form, env={"PYVE_NO_FAST": "1"}, check=True).stdout
        assert fastpath.check(["-q", "-C", str(project), "shell-hook", *form]) == 0
        fast = capsys.readouterr().out
        assert fast == slow and "VIRTUAL_ENV" in fast, form
        assert pyve("shell-hook", *form, check=True).stdout == slow  # the real CLI, fast
    # forms the fast path leaves to the full path
    for form in (["--backend", "venv"], ["--shell", "tcsh"], ["--help"], ["--shell"]):
        assert fastpath.check(["-C", str(project), "shell-hook", *form]) is None, form
    os.utime(project / "requirements.txt")  # stale snapshot: the full path answers
    assert fastpath.check(["-C", str(project), "shell-hook"]) is None


def test_sh_quote_is_shlex_quote() -> None:
    import shlex

    from pyve.activation import is_name, sh_quote

    samples = ["", "a", "/a b/bin", "it's", "$HOME", "a=b:c,d.e/f-g@h%i+j", "é", "x\ny",
               "'", "\"", "`x`", "\\", "tab\t", "~", "*", "!"]
    for value in samples:
        assert sh_quote(value) == shlex.quote(value), value
    assert [is_name(k) for k in ("A", "_a1", "1a", "", "A-B", "É", "A B")] == \
        [True, True, False, False, False, False, False]


def test_fast_answer_imports_almost_nothing(project: Path, pyve: PyveRunner,
                                            sandbox_env: dict[str, str]) -> None:
    """The fast answer costs one interpreter start-up because it imports next to nothing;
    any of these would add milliseconds to every no-op build, `pyve run` and shell hook."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    heavy = ["argparse", "doit", "packaging", "pathlib", "re", "rich", "subprocess", "typing",
             "pyve.progress"]
    code = ("import sys\nfrom pyve import cli\nstatus = cli.main(['build'])\n"
            f"print(status, sorted(set({heavy!r}) & set(sys.modules)))")
    # without coverage's variables: under `--cov` coverage starts in every subprocess and
    # imports pathlib, re and typing itself
    env = {k: v for k, v in sandbox_env.items() if not k.startswith("COVERAGE_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=project, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "up to date" in out
    assert out.splitlines()[-1] == "0 []"


def test_activated_env_on_path_keeps_the_fast_answer(project: Path, pyve: PyveRunner,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     same_env: None, tmp_path: Path) -> None:
    """A build in a shell where the env is activated, a check in one where it is not (and
    the other way round): both see the same decision, so the fast answer stands."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    plain = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{project / '.venv' / 'bin'}{os.pathsep}{plain}")
    assert agree(project) == (True, True)
    pyve("build", env={"PATH": os.environ["PATH"]}, check=True)  # saved while activated
    monkeypatch.setenv("PATH", plain)
    assert agree(project) == (True, True)
    other = tmp_path / "tools"
    other.mkdir()
    monkeypatch.setenv("PATH", f"{other}{os.pathsep}{plain}")  # a real change: no fast answer
    assert agree(project) == (False, True)


# Every global option the parser takes after the command as well as before it (cli.py)
GLOBAL_FLAGS = ["-q", "--quiet", "-v", "--verbose", "--debug"]


def spellings(project: Path) -> list[list[str]]:
    """Each spelling the parser accepts for a no-op build, run or shell hook."""
    forms: list[list[str]] = []
    for flag in GLOBAL_FLAGS:
        for command in (["build"], ["build", "--json"], ["build", "--check"],
                        ["build", "--dry-run"], ["shell-hook"], ["shell-hook", "--shell", "bash"]):
            forms += [[flag, *command], [*command, flag], [command[0], flag, *command[1:]]]
        forms += [[flag, "run", "python", "-c", "pass"], ["run", flag, "python", "-c", "pass"]]
        forms += [["-C", str(project), flag, "build"], ["-C", str(project), "build", flag]]
    forms += [["build", "-q", "-v", "--debug"], ["--quiet", "build", "--verbose", "--json"],
              ["-C", str(project), "run", "-q", "-v", "python", "-c", "pass"]]
    return forms


def assert_every_spelling_is_fast(project: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    executed: list[list[str]] = []

    def execve(exe: str, argv: list[str], env: dict[str, str]) -> None:
        executed.append(list(argv))  # `pyve run` answered fast: it would exec the command

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.chdir(project)
    for argv in spellings(project):
        executed.clear()
        assert fastpath.check(argv) == 0, argv
        if "run" in argv:
            assert executed == [["python", "-c", "pass"]], argv  # the flags are pyve's
    capsys.readouterr()
    for quiet in (["build", "-q"], ["build", "--quiet"], ["-q", "build"]):
        assert fastpath.check(quiet) == 0
        assert capsys.readouterr().out == "", quiet  # quiet is quiet
    assert fastpath._parse(["run", "-q", "python", "-q"])[2] == ["python", "-q"]  # type: ignore[index]
    assert fastpath.check(["build", "-q", "--force"]) is None  # a real option: the full path


def test_every_spelling_of_a_no_op_gets_the_fast_answer(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        same_env: None) -> None:
    """Global options after the command (`pyve build -q`, which the docs allow) are the same
    build: the fast path answers each spelling the parser accepts (issue 15, item 3)."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    assert_every_spelling_is_fast(project, monkeypatch, capsys)


def test_every_spelling_of_a_conda_no_op_gets_the_fast_answer(
        project: Path, pyve: PyveRunner, local_channel: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        same_env: None) -> None:
    """The same on a conda project, where the issue measured `pyve build -q` at 0.55 s."""
    from tests.support.conda_helpers import python_env

    python_env(project, local_channel, pip=[])
    pyve("init", "--yes", check=True)
    assert_every_spelling_is_fast(project, monkeypatch, capsys)


def test_private_json_scanner_still_reads_what_json_writes(tmp_path: Path) -> None:
    """fastpath._load uses json's private C scanner (`_json.make_scanner`, ~3 ms cheaper than
    `import json` on a no-op). Should a Python release change or drop it, this fails, naming
    it, instead of every no-op quietly falling back to the full path."""
    import _json
    import json

    assert callable(getattr(_json, "make_scanner", None)), "_json.make_scanner is gone"
    from json import scanner

    assert scanner.c_make_scanner is _json.make_scanner, "json no longer uses _json's scanner"
    snapshot = {"version": 3, "argv": ["-C", "/p", "build"], "stat": {"a": [1, 2**70, -3]},
                "env": {"PATH": "/bin:/usr/bin", "PYVE_X": None}, "ok": True, "ratio": 0.5,
                "text": "é\u2603\U0001f600 \"quoted\" \\ tab\t", "nested": [[{}], []]}
    path = tmp_path / "fast.json"
    for text in (json.dumps(snapshot, indent=1) + "\n", json.dumps(snapshot)):
        path.write_text(text, encoding="utf-8")
        assert fastpath._load(str(path)) == json.loads(text) == snapshot, \
            "fastpath._load (json's private make_scanner) disagrees with json.loads"


def test_global_flags_are_declared_once_for_argparse_and_the_fast_path() -> None:
    """cli.py's global options are words.py's, which the fast path reads argv with: a global
    flag added to one is in both."""
    from pyve import words
    from pyve.cli import build_parser

    parser = build_parser()
    declared = {o for a in parser._actions for o in a.option_strings} - {"-h", "--help",
                                                                          "--version"}
    assert declared == {*words.GLOBAL_SWITCHES, words.DIRECTORY}
    for spelling in words.GLOBAL_SWITCHES:  # and each one is also taken after the command
        assert parser.parse_args(["build", spelling]) is not None
    assert {*fastpath._QUIET, *fastpath._HARMLESS} == set(words.GLOBAL_SWITCHES)


def _imported(code: str, heavy: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The output of `code` in a fresh interpreter, then which of `heavy` it imported."""
    probe = (f"import sys\nfrom pyve import cli\ntry:\n    {code}\nexcept SystemExit:\n    pass\n"
             f"print(sorted(set({heavy!r}) & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_help_imports_neither_doit_nor_rich(tmp_path: Path,
                                            sandbox_env: dict[str, str]) -> None:
    heavy = ["doit", "rich", "packaging", "pyve.graph", "pyve.taskengine", "rattler"]
    for argv in (["--help"], ["build", "--help"], ["--version"]):
        out = _imported(f"cli.main({argv!r})", heavy, tmp_path, sandbox_env)
        assert out[-1] == "[]", argv


def test_full_build_imports_only_the_engine(project: Path, pyve: PyveRunner,
                                            sandbox_env: dict[str, str]) -> None:
    """A build through doit (no fast answer) off a terminal imports doit's engine, not
    doit's command line and plugin loader, nor rich, nor the conda engine."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    heavy = ["doit.dependency", "doit.doit_cmd", "doit.plugin", "doit.cmd_base",
             "importlib.metadata", "rich", "rattler", "pyve.engines.rattler"]
    out = _imported("status = cli.main(['build'])", heavy, project,
                    {**sandbox_env, "PYVE_NO_FAST": "1"})
    assert any("up to date" in line for line in out)
    assert out[-1] == str(["doit.dependency"])
