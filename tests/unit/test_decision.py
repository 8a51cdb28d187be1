"""decision.choose_backend: --backend > PYVE_BACKEND > pyve.toml > files; auto; bad names."""

from __future__ import annotations

import pytest

from pyve.decision import choose_backend, normalize_backend, resolve_ambiguous
from pyve.errors import UsageError

C, P = ["environment.yml"], ["requirements.txt"]


@pytest.mark.parametrize(("args", "backend", "reason"), [
    ((None, None, None, [], []), "venv", "no project files found (default)"),
    ((None, None, None, [], P), "venv", "requirements.txt found"),
    ((None, None, None, C, []), "micromamba", "environment.yml found"),
    ((None, None, None, ["conda-lock.yml"], ["pyproject.toml"]), None,
     "both conda and pip files found"),
    ((None, None, "venv", C, P), "venv", "pyve.toml says venv"),
    ((None, "micromamba", "venv", [], P), "micromamba", "PYVE_BACKEND says micromamba"),
    (("venv", "micromamba", "micromamba", C, []), "venv", "--backend says venv"),
    (("auto", "micromamba", "micromamba", [], P), "venv", "requirements.txt found"),
    ((None, "auto", "micromamba", [], P), "venv", "requirements.txt found"),
    ((None, None, "auto", C, []), "micromamba", "environment.yml found"),
    (("Conda", None, None, [], []), "micromamba", "--backend says micromamba"),
    ((" VENV ", None, None, [], []), "venv", "--backend says venv"),
])
def test_choose_backend(args: tuple, backend: str | None, reason: str) -> None:  # type: ignore[type-arg]
    choice = choose_backend(*args)
    assert (choice.backend, choice.reason) == (backend, reason)
    assert choice.ambiguous == (backend is None)


@pytest.mark.parametrize(("args", "backend", "reason"), [
    # `pyve init`: a recorded micromamba with every conda file gone no longer holds ...
    ((None, None, "micromamba", [], P), "venv",
     "pyve.toml said micromamba, but no conda file is left; requirements.txt found"),
    ((None, None, "micromamba", [], []), "venv",
     "pyve.toml said micromamba, but no conda file is left; no project files found (default)"),
    # ... but one conda file, or an explicit choice, still does
    ((None, None, "micromamba", ["conda-lock.yml"], P), "micromamba", "pyve.toml says micromamba"),
    (("micromamba", None, None, [], P), "micromamba", "--backend says micromamba"),
    ((None, "micromamba", None, [], []), "micromamba", "PYVE_BACKEND says micromamba"),
    ((None, None, "venv", C, P), "venv", "pyve.toml says venv"),
])
def test_choose_backend_at_init(args: tuple, backend: str, reason: str) -> None:  # type: ignore[type-arg]
    choice = choose_backend(*args, reinit=True)
    assert (choice.backend, choice.reason) == (backend, reason)
    assert choose_backend(*args).backend == ("micromamba" if "micromamba" in args else backend)


@pytest.mark.parametrize(("cli", "env", "toml", "where"), [
    ("cnoda", None, None, "--backend"), (None, "pip", None, "PYVE_BACKEND"),
    (None, None, "uv", "pyve.toml"),
])
def test_invalid_backend_names_where_and_lists_valid(cli: str | None, env: str | None,
                                                     toml: str | None, where: str) -> None:
    with pytest.raises(UsageError) as info:
        choose_backend(cli, env, toml, [], [])
    assert where in info.value.message and info.value.exit_code == 2
    assert "valid backends: venv, micromamba, auto" in (info.value.hint or "")


def test_suggestion_for_close_name() -> None:
    with pytest.raises(UsageError) as info:
        normalize_backend("micromaba", "--backend")
    assert "did you mean 'micromamba'?" in (info.value.hint or "")


def test_resolve_ambiguous_keeps_files() -> None:
    choice = choose_backend(None, None, None, C, P)
    for yes, backend in ((True, "micromamba"), (False, "venv")):
        done = resolve_ambiguous(choice, yes, "how")
        assert (done.backend, done.reason, done.conda_files, done.pip_files) == (
            backend, "how", tuple(C), tuple(P))
