"""Generated text thrown at every parser of pyve's inputs: the answer is a value or a
PyveError (one line for the user), never another exception (a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyve import cli, pythons
from pyve.conda import envfile, lockfile
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
    from pyve.backends import prune

    root = tmp_path_factory.mktemp("req")
    (root / "requirements.txt").write_bytes(data)
    found = prune.requirement_names(root, ["requirements.txt"])
    assert found is None or all(isinstance(name, str) and name for name in found)
