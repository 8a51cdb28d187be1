"""graph.py: stages as doit tasks -- ran / up to date with reasons, downstream re-runs,
a stage run alone leaves the graph fresh, and `plan` (status) writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyve.backends.base import Stage
from pyve.graph import ConfigCheck, StageResult, plan, run_stages
from pyve.project import Project


def _stages(root: Path, log: list[str], python: str = "3.11.7",
            broken: str | None = None) -> list[Stage]:
    def make(name: str, out: str) -> Stage:
        def action() -> None:
            log.append(name)
            (root / out).write_text(name)
        return Stage(name=name, action=action, targets=[out])

    first = make("create-env", "env.txt")
    first.config = {"python": python}
    first.checks = [lambda: broken]
    deps = make("pip-deps", "deps.txt")
    deps.file_dep, deps.after = ["requirements.txt"], ["create-env"]
    freeze = make("freeze", "lock.txt")
    freeze.after = ["pip-deps"]
    return [first, deps, freeze]


def _run(project: Project, stages: list[Stage], force: bool = False) -> dict[str, StageResult]:
    return {r.name: r for r in run_stages(project, stages, lambda r: None, force=force)}


def test_reasons_and_downstream(tmp_path: Path) -> None:
    project = Project.load(tmp_path)
    (tmp_path / "requirements.txt").write_text("a\n")
    log: list[str] = []
    first = _run(project, _stages(tmp_path, log))
    assert log == ["create-env", "pip-deps", "freeze"]
    assert all(r.status == "ran" and r.reasons == ["first build"] for r in first.values())

    log.clear()
    assert {r.status for r in _run(project, _stages(tmp_path, log)).values()} == {"up to date"}
    assert log == []

    (tmp_path / "requirements.txt").write_text("a\nb\n")
    results = _run(project, _stages(tmp_path, log))
    assert log == ["pip-deps", "freeze"]
    assert results["pip-deps"].reasons == ["requirements.txt changed"]
    assert results["freeze"].reasons == ["pip-deps re-ran"]

    log.clear()
    results = _run(project, _stages(tmp_path, log, python="3.11.9"))
    assert log == ["create-env", "pip-deps", "freeze"]
    assert results["create-env"].reasons == ["python 3.11.7 -> 3.11.9"]

    log.clear()
    results = _run(project, _stages(tmp_path, log, python="3.11.9", broken="python gone"))
    assert results["create-env"].reasons == ["python gone"]

    log.clear()
    (tmp_path / "env.txt").unlink()
    stale = {r.name: r for r in plan(project, _stages(tmp_path, log, python="3.11.9"))}
    assert stale["create-env"].status == "stale" and stale["freeze"].status == "stale"
    assert stale["create-env"].reasons == ["output missing"]
    assert log == []  # plan runs nothing


def test_stage_alone_leaves_graph_fresh(tmp_path: Path) -> None:
    project = Project.load(tmp_path)
    (tmp_path / "requirements.txt").write_text("a\n")
    log: list[str] = []
    _run(project, _stages(tmp_path, log))
    freeze = [s for s in _stages(tmp_path, log) if s.name == "freeze"]
    log.clear()
    _run(project, freeze, force=True)  # `pyve lock`
    assert log == ["freeze"]
    log.clear()
    _run(project, _stages(tmp_path, log))
    assert log == []


def test_plan_creates_nothing(tmp_path: Path) -> None:
    project = Project.load(tmp_path)
    (tmp_path / "requirements.txt").write_text("a\n")
    results = plan(project, _stages(tmp_path, []))
    assert [r.reasons for r in results] == [["first build"]] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


def test_config_check_says_what_changed() -> None:
    class T:
        value_savers: list[object] = []

    check = ConfigCheck({"python": "3.12.1", "python_path": "/b"})
    assert check(T(), {}) is True and check.reason is None
    assert check(T(), {ConfigCheck.KEY: {"python": "3.12.1", "python_path": "/b"}}) is True
    assert check(T(), {ConfigCheck.KEY: {"python": "3.11.7", "python_path": "/b"}}) is False
    assert check.reason == "python 3.11.7 -> 3.12.1"


def test_state_file_is_written_once_per_build(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Three stages run, .pyve/state.json is written once (when the run ends); each stage's
    completion is its stamp, written as it finishes (what a killed build leaves true)."""
    from pyve.state import AtomicJsonDB

    dumps: list[str] = []
    real_dump = AtomicJsonDB.dump

    def counting_dump(self: AtomicJsonDB) -> None:
        dumps.append(self.name)
        real_dump(self)

    monkeypatch.setattr(AtomicJsonDB, "dump", counting_dump)
    project = Project.load(tmp_path)
    (tmp_path / "requirements.txt").write_text("a\n")
    log: list[str] = []
    _run(project, _stages(tmp_path, log))
    assert log == ["create-env", "pip-deps", "freeze"]
    assert len(dumps) == 1
    assert sorted(p.name for p in (tmp_path / ".pyve" / "stamps").iterdir()) == \
        ["create-env", "freeze", "pip-deps"]


def test_doit_package_init_runs_only_when_asked() -> None:
    """pyve.taskengine imports doit's engine without doit/__init__ (its command line and
    plugin loader); a name only that __init__ defines still works, from doit's own code."""
    code = ("import sys\nimport pyve.graph\n"
            "before = sorted({'doit.doit_cmd', 'doit.plugin', 'importlib.metadata'}"
            " & set(sys.modules))\n"
            "import doit\nprint(before, doit.__version__ == doit.version.VERSION,"
            " callable(doit.run), 'doit.doit_cmd' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["[]", "True", "True", "True"]
