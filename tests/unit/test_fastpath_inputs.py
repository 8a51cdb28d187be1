"""A generated guard: for every input that the decision and the stages declare, an edit that
keeps the file's size and mtime (the hardest kind to see) makes the fast path step aside, and
the graph (doit's content checks) calls the stage that reads it stale. Nothing is listed by
hand here: the paths come from the same declarations the graph and the snapshot use."""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from pathlib import Path

from pyve.commands.common import load_backend, make_decision
from pyve.errors import PyveError
from pyve.graph import plan
from pyve.project import DECISION_FILES, Project
from tests.conftest import PyveRunner, linux_only, write_tiny_project
from tests.support.conda_helpers import python_env
from tests.unit.test_fastpath import fast_fresh


def _stages(root: Path) -> list:  # type: ignore[type-arg]
    project = Project.load(root)
    decision = make_decision(project, Namespace(), interactive=False)
    return load_backend(decision.backend).stages(project, decision)


def _stale(root: Path) -> set[str]:
    """The stages a build would run; every one when the build would fail on its input."""
    try:
        stages = _stages(root)
    except PyveError:
        return {"detect", "conda-solve", "create-env", "pip-deps", "freeze", "conda-lock"}
    return {r.name for r in plan(Project.load(root), stages) if r.status != "up to date"}


def _declared(root: Path) -> dict[str, set[str]]:
    """path (relative to the root) -> the stages that declare it; "" for the decision."""
    found: dict[str, set[str]] = {name: {""} for name in DECISION_FILES
                                  if (root / name).is_file()}
    produced = {t for s in _stages(root) for t in s.targets}
    for stage in _stages(root):
        for path in stage.file_dep:
            if not path.startswith("/") and path not in produced:
                found.setdefault(path, set()).add(stage.name)
    return found


def _flip_keeping_stat(path: Path) -> bytes:
    """Change one byte, keep size and mtime (an edit followed by `touch -r old`)."""
    data = path.read_bytes()
    st = path.stat()
    index = max(i for i, b in enumerate(data) if chr(b).isalnum())
    char = chr(data[index])
    new = char.swapcase() if char.isalpha() else str((int(char) + 1) % 10)
    changed = data[:index] + new.encode() + data[index + 1:]
    path.write_bytes(changed)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return data


def _restore(path: Path, data: bytes) -> None:
    st = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _guard(root: Path, pyve: PyveRunner) -> int:
    assert fast_fresh(root)
    declared = _declared(root)
    for rel, readers in sorted(declared.items()):
        path = root / rel
        original = _flip_keeping_stat(path)
        assert not fast_fresh(root), f"fast path still answers after an edit of {rel}"
        stages = {r for r in readers if r}
        if stages and rel.endswith((".txt", ".in", ".yml", ".lock", ".py", ".toml")):  # not .pyve's
            assert stages <= _stale(root), f"an edit of {rel} left {stages} fresh"
        _restore(path, original)
        pyve("build", check=True)  # the same bytes again: a new snapshot
        assert fast_fresh(root), rel
    return len(declared)


def test_every_declared_venv_input(project: Path, pyve: PyveRunner, same_env: None) -> None:
    (project / "requirements").mkdir()
    # a local project built from its sources, its dependencies in a file (setuptools' dynamic)
    write_tiny_project(project / "lib", requires=(), dynamic=(["deps.txt"], {}),
                       tool='[tool.setuptools.dynamic]\ndependencies = {file = "deps.txt"}\n')
    (project / "lib" / "deps.txt").write_text("gamma\n")
    (project / "requirements.txt").write_text("-r requirements/base.in\n-c pins.txt\n./lib\n")
    (project / "requirements" / "base.in").write_text("beta\n")
    (project / "pins.txt").write_text("alpha==1.0\n")
    (project / ".python-version").write_text("{}.{}\n".format(*sys.version_info[:2]))
    pyve("init", "--yes", check=True)
    assert {"lib/deps.txt", "lib/src/tiny.py"} <= set(_declared(project))
    assert _guard(project, pyve) >= 9


def test_every_declared_input_with_a_project_lock(project: Path, pyve: PyveRunner,
                                                 same_env: None) -> None:
    """The project's own lock (pdm.lock here) is an input of the install."""
    write_tiny_project(project, ("alpha",))
    (project / "pdm.lock").write_text('[metadata]\ngroups = ["default"]\n\n[[package]]\n'
                                      'name = "alpha"\nversion = "1.0"\ngroups = ["default"]\n')
    pyve("init", "--yes", check=True)
    declared = _declared(project)
    assert declared["pdm.lock"] == {"", "pip-deps"}
    assert _guard(project, pyve) >= 3


@linux_only
def test_every_declared_conda_input(project: Path, pyve: PyveRunner, local_channel: Path,
                                    same_env: None) -> None:
    python_env(project, local_channel, pip=["beta", "-r pip-extra.txt"])
    (project / "pip-extra.txt").write_text("gamma\n")
    pyve("init", "--yes", check=True)
    assert _guard(project, pyve) >= 4
