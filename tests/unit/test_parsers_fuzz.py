"""Generated text thrown at every parser of pyve's inputs: the answer is a value or a
PyveError (one line for the user), never another exception (a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyve import cli, pythons
from pyve.backends.conda import envfile, lockfile
from pyve.errors import PyveError
from pyve.project import read_config, read_python_pin

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
# Text that looks a little like the formats: their punctuation plus anything.
PUNCT = st.sampled_from(list("=[]{}\"':-#\n\t ,.<>!~*|@/\\") + ["- ", "  - ", "pip:", "python",
                                                                "dependencies:", "\x00", "é"])
TEXTISH = st.lists(st.one_of(st.text(max_size=8), PUNCT), max_size=40).map("".join)


def _ok_or_pyve_error(func, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        func(*args)
    except PyveError as exc:
        assert exc.message and "\n" not in exc.message.strip() or exc.message


@FAST
@given(TEXTISH)
def test_read_config(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / "pyve.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _ok_or_pyve_error(read_config, path)


@FAST
@given(st.binary(max_size=200))
def test_read_config_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("cfg") / "pyve.toml"
    path.write_bytes(data)
    _ok_or_pyve_error(read_config, path)


@FAST
@given(st.sampled_from([".python-version", ".tool-versions", "pyproject.toml"]),
       st.one_of(TEXTISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.binary(max_size=100)))
def test_read_python_pin(tmp_path_factory: pytest.TempPathFactory, name: str,
                         data: bytes) -> None:
    root = tmp_path_factory.mktemp("pin")
    (root / name).write_bytes(data)
    try:
        pin = read_python_pin(root)
    except PyveError:
        return
    if pin is not None:  # what the decision does next with it
        _ok_or_pyve_error(pythons.parse_request, pin[0])


@FAST
@given(TEXTISH)
def test_parse_request(text: str) -> None:
    _ok_or_pyve_error(pythons.parse_request, text)


@FAST
@given(TEXTISH)
def test_parse_envfile(text: str) -> None:
    _ok_or_pyve_error(envfile.parse_envfile, text, Path("environment.yml"))


ENV_LINES = st.lists(st.one_of(
    st.sampled_from(["channels:", "  - conda-forge", "dependencies:", "  - python=3.11",
                     "  - pip:", "    - requests>=2", "platforms: [linux-64]", "variables:",
                     "  A: 1", "name: x", "  - numpy >=1,<2", "  - conda-forge::numpy"]),
    TEXTISH), max_size=12).map("\n".join)


@FAST
@given(ENV_LINES)
def test_parse_envfile_near_valid(text: str) -> None:
    _ok_or_pyve_error(envfile.parse_envfile, text, Path("environment.yml"))


@FAST
@given(st.one_of(TEXTISH, st.lists(st.sampled_from(
    ["version: 1", "metadata:", "  platforms: [linux-64]", "package:", "- name: x",
     "  platform: linux-64", "package: 3", "version: 2", "metadata: []"]), max_size=8
).map("\n".join)))
def test_read_lock(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("lock") / "conda-lock.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")

    def read_and_use(p: Path) -> None:
        lock = lockfile.read_lock(p)
        lockfile.lock_packages(lock, "linux-64")  # what the backend does with it next

    _ok_or_pyve_error(read_and_use, path)


WORDS = st.lists(st.one_of(st.sampled_from(
    ["--init", "--purge", "init", "build", "-C", "-q", "--debug", "3.11", "--backend", "venv",
     "run", "lock", "--", "-v", "purge"]), st.text(max_size=6)), max_size=8)


@FAST
@given(WORDS)
def test_normalize_argv(argv: list[str]) -> None:
    result = cli.normalize_argv(list(argv))
    assert isinstance(result, list) and all(isinstance(a, str) for a in result)
    assert sorted(result) == sorted(argv) or set(result) - {"init", "purge"} <= set(argv)


@FAST
@given(st.one_of(TEXTISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 TEXTISH.map(lambda t: ("-r " + t).encode("utf-8", "surrogatepass")),
                 st.binary(max_size=100)))
def test_requirement_names(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """What the prune step reads from requirements.txt: a set of names or None, nothing
    else (it runs after a successful pip install, so it must never fail the build)."""
    from pyve.installers import prune

    root = tmp_path_factory.mktemp("req")
    (root / "requirements.txt").write_bytes(data)
    found = prune.requirement_names(root, ["requirements.txt"])
    assert found is None or all(isinstance(name, str) and name for name in found)


# --- shapes: well-formed files whose values are of the wrong kind -------------------------

# JSON-like values of any shape (what a hand edit, a merge or another tool may leave).
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["linux-64", "conda-forge", "python", "pip", "../../etc", "foo[x]",
                       "file:///x/noarch/a-1-0.tar.bz2", "http://u:p@h/simple"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12)


def _shaped(keys: list[str]) -> st.SearchStrategy[dict]:
    """A mapping with some of `keys` (valid names, values of any shape) and maybe others."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), VALUES, max_size=6)


ENV_KEYS = ["name", "channels", "dependencies", "platforms", "variables", "category", "prefix"]


@FAST
@given(st.one_of(_shaped(ENV_KEYS), VALUES,
                 st.builds(lambda d, extra: {"dependencies": ["python", {"pip": d}], **extra},
                           VALUES, _shaped(ENV_KEYS))))
def test_envfile_shapes(data: object) -> None:
    import yaml

    from pyve.backends.conda.lockspec import content_hash

    text = yaml.safe_dump(data)

    def parse_and_use(text: str) -> None:
        env = envfile.parse_envfile(text, Path("environment.yml"))
        for platform in lockfile.lock_platforms(env):  # what the lock stage does next
            content_hash(env, platform)
        envfile.env_hash(env.channels, env.conda_specs, "linux-64")

    _ok_or_pyve_error(parse_and_use, text)


@FAST
@given(st.dictionaries(st.sampled_from(["backend", "python", "install_deps", "installer",
                                        "conda_engine", "pyve"]) | st.text(max_size=5),
                       st.one_of(st.booleans(), st.integers(), st.text(max_size=8),
                                 st.lists(st.integers(), max_size=3)), max_size=5),
       st.booleans())
def test_read_config_shapes(tmp_path_factory: pytest.TempPathFactory, data: dict,
                            in_table: bool) -> None:
    import json

    lines = [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data.items()]
    text = ("[pyve]\n" if in_table else "") + "\n".join(lines) + "\n"
    path = tmp_path_factory.mktemp("cfg") / "pyve.toml"
    path.write_text(text, encoding="utf-8")
    try:
        config = read_config(path)
    except PyveError:
        return
    from pyve.project import CONFIG_TYPES

    assert all(isinstance(config[k], CONFIG_TYPES[k]) for k in config), config


LOCK_ENTRY_KEYS = ["name", "version", "manager", "platform", "url", "hash", "dependencies",
                   "category", "optional"]
GOOD_ENTRY = {"name": "x", "version": "1", "manager": "conda", "platform": "linux-64",
              "url": "file:///c/linux-64/x-1-0.tar.bz2", "hash": {"sha256": "ab"},
              "dependencies": {}, "category": "main", "optional": False}


@FAST
@given(st.lists(st.one_of(
    _shaped(LOCK_ENTRY_KEYS),
    st.builds(lambda key, value: {**GOOD_ENTRY, key: value}, st.sampled_from(LOCK_ENTRY_KEYS),
              VALUES)), max_size=3),
    st.one_of(st.just({"platforms": ["linux-64"]}), _shaped(
        ["platforms", "channels", "content_hash", "sources", "custom_metadata"]), VALUES))
def test_lock_shapes(tmp_path_factory: pytest.TempPathFactory, packages: list,
                     metadata: object) -> None:
    import yaml

    from pyve.backends.conda.lockplan import _envfile_from_lock
    from pyve.project import Project

    root = tmp_path_factory.mktemp("lock")
    path = root / "conda-lock.yml"
    path.write_text(yaml.safe_dump({"version": 1, "metadata": metadata, "package": packages}))

    def read_and_use(p: Path) -> None:
        lock = lockfile.read_lock(p)
        for platform in ("linux-64", "osx-64"):  # what the backend and doctor do with it
            lockfile.lock_packages(lock, platform)
            lockfile.pip_requirements(lock, platform)
        _envfile_from_lock(Project(root))

    _ok_or_pyve_error(read_and_use, path)


# --- pyve's own state files: damaged ones are forgiven, never a crash ---------------------

@FAST
@given(st.dictionaries(st.sampled_from(["detect", "create-env", "pip-deps"]) | st.text(max_size=5),
                       st.one_of(VALUES, _shaped(["_values_:", "checker:", "deps:", "result:",
                                                  "req.txt", ".pyve/stamps/detect"])),
                       max_size=4))
def test_state_file_shapes(tmp_path_factory: pytest.TempPathFactory, data: dict) -> None:
    """Any JSON in .pyve/state.json: planning and building the stages works (the damaged
    entries are dropped: their stages run again)."""
    import json

    from pyve import state
    from pyve.backends.base import Stage
    from pyve.graph import plan, run_stages
    from pyve.project import Project

    root = tmp_path_factory.mktemp("state")
    (root / ".pyve").mkdir()
    (root / "req.txt").write_text("x\n")
    (root / ".pyve" / "state.json").write_text(json.dumps(data))
    stages = [Stage("detect", lambda: None, file_dep=["req.txt"], config={"a": 1}),
              Stage("create-env", lambda: None, config={"b": [1]}, after=["detect"]),
              Stage("pip-deps", lambda: None, file_dep=["req.txt"], after=["create-env"])]
    project = Project(root)
    state.damaged_files.clear()
    assert len(plan(project, stages)) == 3
    run_stages(project, stages, lambda result: None)
    assert all(r.status == "up to date" for r in plan(project, stages))


@FAST
@given(st.one_of(VALUES, _shaped(["backend", "python", "pip_sources", "installer"])))
def test_decision_file_shapes(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    import json

    from pyve.backends.detect import damaged_json
    from pyve.commands.common import recorded_decision
    from pyve.project import Project
    from pyve.switching import previous_backend

    root = tmp_path_factory.mktemp("decision")
    (root / ".pyve").mkdir()
    (root / ".pyve" / "decision.json").write_text(json.dumps(data))
    project = Project(root)
    recorded_decision(project)
    damaged_json(root / ".pyve" / "decision.json", dict, what="the decision")
    previous_backend(project)


@FAST
@given(st.lists(st.one_of(_shaped(LOCK_ENTRY_KEYS), VALUES,
                          st.builds(lambda key, value: {**GOOD_ENTRY, key: value},
                                    st.sampled_from(LOCK_ENTRY_KEYS), VALUES)), max_size=3))
def test_solution_file_shapes(tmp_path_factory: pytest.TempPathFactory, data: list) -> None:
    """A solution no installer could use is called damaged (the stage solves again)."""
    import json

    from pyve.backends.conda.lockplan import _damaged_solution

    path = tmp_path_factory.mktemp("solution") / "abc.solution.json"
    path.write_text(json.dumps(data))
    if _damaged_solution(path) is None:
        for entry in data:  # what create-env reads of each entry
            assert isinstance(entry["url"], str) and isinstance(entry["name"], str)


@FAST
@given(_shaped(["header", "stages", "env_dir", "run_env", "fingerprints", "fingerprint",
                "extra"]), st.sampled_from([["build"], ["build", "--json"], ["shell-hook"],
                                            ["build", "--check"], ["run", "nonexistent-cmd-x"]]))
def test_fast_snapshot_shapes(tmp_path_factory: pytest.TempPathFactory,
                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                              fields: dict, argv: list[str]) -> None:
    """A fast.json whose header matches (so it is trusted) but whose fields are damaged:
    the fast path answers or steps aside (None), never raises."""
    import json
    import os
    import sys

    from pyve import __version__, fastpath

    root = tmp_path_factory.mktemp("fast")
    (root / ".pyve").mkdir()
    (root / "pyve.toml").write_text("")
    snapshot = {"format": fastpath.FORMAT, "pyve": __version__, "root": str(root),
                "executable": os.path.realpath(sys.executable), "python": sys.version,
                "env": fastpath.env_values(),
                "stats": {"pyve.toml": fastpath._stat(str(root / "pyve.toml"))}, **fields}
    (root / fastpath.SNAPSHOT).write_text(json.dumps(snapshot))
    monkeypatch.chdir(root)
    assert fastpath.check(argv) in (None, 0)
    capsys.readouterr()


# --- requirements files with includes (issue 22: NUL, devices, depth, loops, ${VAR}, \) ----

INCLUDE_LINE = st.one_of(
    st.sampled_from(["-r a.txt", "-r b.txt", "-c a.txt", "-r self.txt", "-r loop.txt",
                     "-r /dev/zero", "-r fifo", "-r ${FUZZ_DIR}/a.txt", "-r ${UNSET_X}/a.txt",
                     "-r https://example.com/x.txt", "-r sub/\\", "a.txt", "-r missing.txt",
                     "-r deep0.txt", "alpha", "-e .", "./sub", "-r a\x00.txt", "\x00"]),
    TEXTISH)
REQ_FILE = st.lists(INCLUDE_LINE, max_size=6).map("\n".join)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(REQ_FILE, REQ_FILE, st.sampled_from([0, 3, 120]))
def test_requirement_files_with_includes(tmp_path_factory: pytest.TempPathFactory,
                                         monkeypatch: pytest.MonkeyPatch, main: str,
                                         other: str, depth: int) -> None:
    """What a stage declares as its inputs: a list of paths or one PyveError line, never
    another exception, never a hang (a fifo or a device is never opened)."""
    import os

    from pyve.reqfiles import requirement_files, scan

    root = tmp_path_factory.mktemp("inc")
    (root / "sub").mkdir()
    (root / "requirements.txt").write_text(main, encoding="utf-8", errors="surrogatepass")
    (root / "a.txt").write_text(other, encoding="utf-8", errors="surrogatepass")
    (root / "b.txt").write_text("-r a.txt\n")
    (root / "self.txt").write_text("-r self.txt\n")
    (root / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(root / "fifo")
    for i in range(depth):
        (root / f"deep{i}.txt").write_text(f"-r deep{i + 1}.txt\n")
    (root / f"deep{depth}.txt").write_text("alpha\n")
    monkeypatch.setenv("FUZZ_DIR", ".")
    for read in (requirement_files, scan):
        try:
            read(root, ["requirements.txt"])
        except PyveError as exc:
            assert exc.message and "\n" not in exc.message


# --- the venv lock and the contents records: shape and encoding --------------------------

LOCK_LINES = st.lists(st.one_of(st.sampled_from(
    ["# pyve lock", "# inputs: requirements.txt:abc", "alpha==1.0 \\", "    --hash=sha256:" +
     "ab" * 32, "--hash=sha256:zz", "beta>=1", "-e .", "# not hash-locked (a local path): ./x",
     "gamma==2 ; python_version < '3'", "\\"]), TEXTISH), max_size=8).map("\n".join)


@FAST
@given(st.one_of(LOCK_LINES.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.binary(max_size=120)))
def test_venv_lock_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """requirements.lock.txt as --frozen, doctor and `build` read it: entries, its inputs
    line and its local paths, or one PyveError line; never another exception."""
    from pyve.backends.venv import piplock
    from pyve.installers import pip

    root = tmp_path_factory.mktemp("vlock")
    lock = root / pip.LOCK_FILE
    lock.write_bytes(data)
    _ok_or_pyve_error(piplock.read_lock, lock)
    _ok_or_pyve_error(piplock.local_paths, lock)
    _ok_or_pyve_error(pip.check_frozen_lock, root, [])
    assert pip.lock_inputs(lock) is None or isinstance(pip.lock_inputs(lock), str)


@FAST
@given(st.one_of(VALUES.map(lambda v: __import__("json").dumps(v).encode()),
                 st.binary(max_size=80),
                 st.integers(min_value=1, max_value=200_000).map(
                     lambda n: b"[" * n + b"]" * n)))
def test_contents_record_shapes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """A stage's record of what the env holds (.pyve/stamps/<stage>.contents.json), damaged
    any way: read as a record or as none (the stage then runs again), never raises."""
    from pyve import envstate

    root = tmp_path_factory.mktemp("contents")
    path = envstate.record_path(root, "pip-deps")
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    found = envstate.load(root, "pip-deps")
    assert found is None or all(isinstance(v, str) for v in found.values())
