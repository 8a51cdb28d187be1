"""The no-op fast path: answer "up to date" from a snapshot and a few `stat` calls.

A no-op `pyve build` through doit imports doit, rich and packaging (~100 ms) to learn that
nothing changed. After every successful build we save `.pyve/fast.json`: the stat (mtime_ns,
size, inode, ctime_ns) of everything the decision and the task graph read -- pyve.toml and
the other project files, each stage's file_dep, targets, stamps and the files its checks
look at (Stage.watch), doit's state file, the interpreter, the directories Pythons are
discovered in, pyve's own code -- and the environment variables the decision reads.

`check()` loads only that and stats. If every entry matches, nothing doit or the decision
reads has changed since a build that left every stage up to date, so doit would run nothing:
print the same lines and exit 0. On any difference, or any doubt, return None and the full
path runs (which re-checks content, so a `touch` costs one slow no-op, then a new snapshot).

The check itself imports nothing beyond os and sys (plus the C half of json), so it must stay
free of doit, rich, packaging and even `re`.
"""

from __future__ import annotations

import os
import sys

from pyve import testing_hooks, words
from pyve.envbins import without_env_bins

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `import typing` alone costs ~2 ms
if TYPE_CHECKING:  # only for the type checker: the fast path must not import these
    from typing import Any

    from pyve.backends.base import Stage
    from pyve.decision import Decision
    from pyve.graph import StageResult
    from pyve.project import Project

SNAPSHOT = ".pyve/fast.json"
FORMAT = 2
# Environment variables the decision reads (every PYVE_* is added as well). PATH, HOME and
# the pyenv/asdf roots decide which interpreters are found.
ENV_VARS = ("CI", "PATH", "HOME", "PYENV_ROOT", "ASDF_DATA_DIR")
# Global options (words.py, shared with cli.py): -q makes the answer silent, the others
# change nothing the build decides.
_QUIET = words.QUIET
_HARMLESS = tuple(s for s in words.GLOBAL_SWITCHES if s not in words.QUIET)

# --- the check (no heavy imports below this line until `save`) ---------------------------

def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    # ctime too: an edit followed by `touch -r old` (or any tool that restores the mtime)
    # keeps mtime and size, but the kernel sets ctime on every change and nobody can set it
    # back (git's index trusts the same four fields)
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]


def _load(path: str) -> dict[str, Any] | None:
    """Parse the snapshot with the C scanner of json: `import json` costs ~3 ms (it imports
    `re`), a tenth of the whole budget."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        import _json

        class _Context:
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            parse_constant = float
            memo: dict[str, Any] = {}

        # a private API of json's C half: tests/unit/test_fastpath.py::
        # test_private_json_scanner_still_reads_what_json_writes fails loudly if it changes;
        # here a changed one only costs the fast answer (AttributeError, TypeError)
        data, end = _json.make_scanner(_Context())(text, 0)  # type: ignore[arg-type]
        if text[end:].strip():
            return None
    except (ImportError, AttributeError, TypeError, ValueError, StopIteration, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def env_values(environ: Any = None, also: Any = ()) -> dict[str, str | None]:
    """The variables a build reads, with their values; `also`: more names (those that
    requirements files' include paths spell as ${NAME})."""
    environ = os.environ if environ is None else environ
    names = {*ENV_VARS, *also,
             *(k for k in environ if k.startswith("PYVE_") and k != testing_hooks.NO_FAST)}
    values = {name: environ.get(name) for name in sorted(names)}
    if values["PATH"]:  # an activated env's bin changes nothing a build decides
        values["PATH"] = without_env_bins(values["PATH"])
    return values


def matches(root: str, snapshot: dict[str, Any]) -> bool:
    """Every recorded input is as it was when the last build left everything up to date."""
    if (snapshot.get("format") != FORMAT or snapshot.get("root") != root
            or snapshot.get("executable") != os.path.realpath(sys.executable)
            or snapshot.get("python") != sys.version):
        return False
    from pyve import __version__

    if snapshot.get("pyve") != __version__:
        return False
    recorded = snapshot.get("env")
    if not isinstance(recorded, dict) or recorded != env_values(also=recorded):
        return False
    if not _sound(snapshot):
        return False  # damaged: the full path rebuilds it
    stats = snapshot.get("stats")
    if not isinstance(stats, dict) or not stats:
        return False
    for path, recorded in stats.items():
        if _stat(path if path.startswith("/") else f"{root}/{path}") != recorded:
            return False
    return True


def _sound(snapshot: dict[str, Any]) -> bool:
    """The fields the answers read have the shapes `save` writes."""
    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    run_env = snapshot.get("run_env")
    return (isinstance(snapshot.get("header"), str) and strings(snapshot.get("stages"))
            and isinstance(snapshot.get("env_dir"), str)
            and isinstance(run_env, dict)
            and all(isinstance(v, str) for v in run_env.values())
            and isinstance(snapshot.get("fingerprints"), dict)
            and isinstance(snapshot.get("extra"), dict))


def _parse(argv: list[str]) -> tuple[str, str, list[str], bool] | None:
    """(command, the folder pyve starts in, rest, quiet) for the forms the fast path
    answers, else None."""
    quiet = False
    directory = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        if arg in _QUIET:
            quiet = True
        elif arg == words.DIRECTORY and i + 1 < len(argv):
            i += 1
            directory = argv[i]
        elif arg not in _HARMLESS:
            return None
        i += 1
    if i >= len(argv) or argv[i] not in ("build", "run", "shell-hook"):
        return None
    # where pyve starts (-C DIR or here), as the full path's os.getcwd() spells it
    start = os.path.realpath(directory) if directory else os.getcwd()
    if directory and not os.path.isdir(start):
        return None  # the full path says so
    # `pyve build -q` is `pyve -q build` (cli.py gives every command the global flags); for
    # `run`, only before the command to run: what follows is that command's own
    rest = argv[i + 1:]
    own = rest
    if argv[i] == "run":
        j = 0
        while j < len(rest) and rest[j] in (*_QUIET, *_HARMLESS):
            j += 1
        own = rest[j:]
        rest = rest[:j]
    quiet = quiet or any(a in _QUIET for a in rest)
    kept = [a for a in rest if a not in (*_QUIET, *_HARMLESS)]
    return argv[i], start, own if argv[i] == "run" else kept, quiet


def check(argv: list[str]) -> int | None:
    """Answer `pyve build` / `pyve run CMD` / `pyve shell-hook` from the snapshot, or None
    for the full path."""
    if testing_hooks.fast_path_off():
        return None
    parsed = _parse(argv)
    if parsed is None:
        return None
    command, start, rest, quiet = parsed
    if command == "build" and any(a not in words.FAST_BUILD_FLAGS for a in rest):
        return None  # --force, --frozen, decision options: the full path decides
    if command == "run" and (not rest or rest[0].startswith("-")):
        return None  # --frozen (no check at all), --help, or no command: the full path
    shell = _hook_shell(rest) if command == "shell-hook" else None
    if command == "shell-hook" and shell is None:
        return None  # --backend, --help, an unknown shell: the full path
    # the project's folder, found as the full path finds it (projectroot.py); a project
    # pyve has not built yet (none found) has no snapshot
    from pyve.projectroot import initialised

    root = initialised(start)
    if root is None:
        return None
    snapshot = _load(f"{root}/{SNAPSHOT}")
    if snapshot is None or not matches(root, snapshot):
        return None
    if command == "build" and snapshot.get("answers_build") is not True and not (
            "--check" in rest or "--dry-run" in rest):
        return None  # the full build has something to say (fastpath.save)
    if command == "run":
        return _exec(start, snapshot, rest)
    if command == "shell-hook":
        from pyve.activation import render_hook  # import-light, like this module

        run_env = snapshot.get("run_env")
        if not isinstance(run_env, dict) or not run_env:
            return None  # never print an activation that activates nothing
        sys.stdout.write(render_hook(run_env, shell or "bash"))
        return 0
    return _report(snapshot, rest, quiet)


def _hook_shell(rest: list[str]) -> str | None:
    """The shell of `shell-hook [--shell S]` (default as the full path picks it), or None."""
    from pyve.activation import SHELLS, default_shell

    if not rest:
        return default_shell()
    if len(rest) == 2 and rest[0] == "--shell":
        shell = rest[1]
    elif len(rest) == 1 and rest[0].startswith("--shell="):
        shell = rest[0][len("--shell="):]
    else:
        return None
    return shell if shell in SHELLS else None


def _report(snapshot: dict[str, Any], flags: list[str], quiet: bool) -> int:
    if "--json" in flags:
        from pyve import report

        mode = "check" if "--check" in flags else "dry-run" if "--dry-run" in flags else "build"
        prints = snapshot.get("fingerprints", {})
        stages = [report.stage_record(name, "up to date", (), prints.get(name))
                  for name in snapshot["stages"]]
        report.emit("build", stages, fingerprint=snapshot.get("fingerprint"), mode=mode,
                    **snapshot.get("extra", {}))
        return 0
    if quiet:
        return 0
    write = sys.stdout.write
    if "--check" in flags:
        write(words.CHECK_UP_TO_DATE + "\n")
        return 0
    write(snapshot["header"] + "\n")
    for name in snapshot["stages"]:
        write(words.stage_line(name, "up to date") + "\n")
    write(words.NOTHING_TO_DO + "\n")
    if "--dry-run" not in flags:
        write(words.ENVIRONMENT.format(snapshot["env_dir"]) + "\n")
    return 0


def which(name: str, path: str) -> str | None:
    """shutil.which without importing shutil (it imports fnmatch, and so `re`)."""
    if "/" in name:
        return name if os.access(name, os.X_OK) else None
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_environ(run_env: dict[str, str]) -> dict[str, str]:
    """The process environment for a command in the env (what `pyve run` execs with)."""
    env = dict(os.environ)
    for key, value in run_env.items():
        env[key] = value + env.get("PATH", "") if key == "PATH" else value
    env.pop("PYTHONHOME", None)
    return env


def env_bin(run_env: dict[str, str]) -> str:
    """The env's own bin: what run_env puts first on PATH."""
    return run_env.get("PATH", "").split(os.pathsep)[0].rstrip("/")


def foreign_pip(name: str, exe: str, run_env: dict[str, str]) -> bool:
    """`pip` found outside the env (a uv-made venv has none): it would install into another
    Python, not the env -- refuse rather than run it."""
    if not (name == "pip" or name.startswith("pip3")):
        return False
    return os.path.dirname(exe) != env_bin(run_env)


def _exec(start: str, snapshot: dict[str, Any], command: list[str]) -> int | None:
    """Run the command where pyve was started (-C DIR, or the user's folder: a subfolder of
    the project runs there, as with `uv run`)."""
    env = run_environ(snapshot.get("run_env", {}))
    exe = which(command[0], env.get("PATH", ""))
    if exe is None or foreign_pip(command[0], exe, snapshot.get("run_env", {})):
        return None  # the full path says what is wrong in its own words
    os.chdir(start)
    sys.stdout.flush()
    os.execve(exe, command, env)
    return 0  # pragma: no cover


# --- writing the snapshot (full path only: heavy imports are fine here) ------------------

def clear(root: Any) -> None:
    """Forget the snapshot before anything changes (a build, a lock, a purge)."""
    try:
        os.unlink(os.path.join(str(root), SNAPSHOT))
    except OSError:
        pass


def input_paths(project: Project, stages: list[Stage]) -> list[str] | None:
    """Every path whose stat the answer depends on; None when a stage's checks cannot be
    reduced to stats (no Stage.watch): then there is no fast path for this project."""
    from pathlib import Path

    from pyve.envstate import record_path
    from pyve.graph import STATE_FILE, stamp_path

    def envstate_record(stage: str) -> str:
        return str(record_path(Path("."), stage))

    from pyve.project import DECISION_FILES

    paths: list[str] = [*DECISION_FILES, STATE_FILE, ".pyve/decision.json"]
    for stage in stages:
        if (stage.checks or stage.contents) and stage.watch is None:
            return None
        paths += [*stage.file_dep, *stage.targets, stamp_path(stage.name)]
        for watched in stage.watch or []:  # `lib/python*/site-packages`: known once built
            found = sorted(str(p.relative_to(project.root)) for p in project.root.glob(watched)
                           ) if "*" in watched else [watched]
            paths += found or [watched]
        if stage.contents:
            paths.append(envstate_record(stage.name))
    # where interpreters are discovered: a new install changes the directory's mtime
    home = os.environ.get("HOME", "")
    paths.append(f"{os.environ.get('PYENV_ROOT') or home + '/.pyenv'}/versions")
    paths.append(f"{os.environ.get('ASDF_DATA_DIR') or home + '/.asdf'}/installs/python")
    paths += [d for d in os.environ.get("PATH", "").split(os.pathsep) if d.startswith("/")]
    # the interpreter running pyve (the default Python) and its base installation
    paths.append(os.path.realpath(sys.executable))
    minor = "python{}.{}".format(*sys.version_info[:2])
    paths.append(os.path.realpath(os.path.join(sys.base_prefix, "bin", minor)))
    # pyve's own code: another pyve may build other stages
    package = Path(__file__).resolve().parent
    paths += [str(package), *(str(p) for p in sorted(package.rglob("*.py")))]
    paths += [str(p) for p in package.iterdir() if p.is_dir()]
    return list(dict.fromkeys(paths))


def user_inputs(stages: list[Stage]) -> list[str]:
    """The inputs no stage produces: a change to one during a build must void the snapshot."""
    from pyve.project import DECISION_FILES

    produced = {t for s in stages for t in s.targets}  # conda-lock.yml, when pyve writes it
    inputs = [*DECISION_FILES, *(d for s in stages for d in s.file_dep)]
    return list(dict.fromkeys(p for p in inputs if p not in produced))


def stat_all(root: Any, paths: list[str]) -> dict[str, list[int] | None]:
    return {p: _stat(p if p.startswith("/") else os.path.join(str(root), p)) for p in paths}


def save(project: Project, decision: Decision, stages: list[Stage],
         results: list[StageResult], *, header: str, env_dir: str, run_env: dict[str, str],
         before: dict[str, list[int] | None], answers_build: bool = True) -> bool:
    """Write the snapshot after a successful build; False when it would not be safe.
    answers_build=False: a plain `pyve build` still has something to say (the packages
    installed by hand that `pyve run`'s build did not name), so only run, shell-hook and
    `build --check`/`--dry-run` are answered from it."""
    import json
    from pathlib import Path

    from pyve import __version__
    from pyve.fingerprint import data_digest
    from pyve.fsutil import atomic_write_text
    from pyve.graph import env_fingerprint, fingerprints

    if any(r.status not in ("ran", "up to date") for r in results):
        return False
    paths = input_paths(project, stages)
    if paths is None:
        return False
    stats = stat_all(project.root, paths)
    if any(stats.get(p) != before.get(p) for p in before):
        return False  # an input changed while we built: doit may have stored the old one
    prints = fingerprints(project, stages)
    snapshot = {
        "format": FORMAT,
        "pyve": __version__,
        "root": str(project.root),
        "executable": os.path.realpath(sys.executable),  # `pyve` script or `python -m pyve`
        "python": sys.version,
        "env": env_values(also=[n for s in stages for n in s.config.get("variables", {})]),
        "configs": data_digest([s.config for s in stages]),
        "stats": stats,
        "header": header,
        "stages": [s.name for s in stages],
        "env_dir": env_dir,
        "run_env": run_env,
        "fingerprints": prints,
        "fingerprint": env_fingerprint(prints),
        "extra": {**decision.as_dict(), "env": env_dir},
        "answers_build": answers_build,
    }
    # private: it holds environment.yml's `variables:` and the PYVE_* settings
    atomic_write_text(Path(project.root) / SNAPSHOT, json.dumps(snapshot, indent=1) + "\n",
                      mode=0o600)
    return True
