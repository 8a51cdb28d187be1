"""Content, not mtimes, decides "up to date": an edit whose mtime was put back, and an input
edited while its stage ran, both leave the stage stale (issue 11, items 5 and 6)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import PyveRunner
from tests.support.faults import start, wait_for
from tests.support.helpers import py, stage_line


def _edit_keeping_mtime(path: Path, text: str) -> None:
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r old`


def test_same_size_edit_with_mtime_kept_is_stale(venv_project: Path, pyve: PyveRunner) -> None:
    req = venv_project / "requirements.txt"
    assert req.read_text() == "alpha\n"
    _edit_keeping_mtime(req, "gamma\n")  # same size, same mtime
    check = pyve("build", "--check")  # the fast path's stat must not answer this
    assert check.returncode == 1 and "stale: pip-deps: requirements.txt changed" in check.stdout
    build = pyve("build", check=True)
    assert "requirements.txt changed" in stage_line(build.stdout, "pip-deps")
    assert py(venv_project, "import gamma").returncode == 0
    assert pyve("build", "--check").returncode == 0


def test_size_change_with_mtime_kept_is_stale(venv_project: Path, pyve: PyveRunner) -> None:
    req = venv_project / "requirements.txt"
    _edit_keeping_mtime(req, "alpha\ngamma\n")
    assert pyve("build", "--check").returncode == 1
    pyve("build", check=True)
    assert py(venv_project, "import gamma").returncode == 0


def test_input_edited_while_its_stage_runs(venv_project: Path, pyve: PyveRunner,
                                           sandbox_env: dict[str, str]) -> None:
    (venv_project / "requirements.txt").write_text("alpha\nbeta\n")
    proc = start(venv_project, sandbox_env, "build",
                 extra={"PYVE_TEST_PAUSE_AT": "pip-deps:after"})
    flag = venv_project / ".pyve" / "paused-pip-deps"
    wait_for(flag, proc)
    time.sleep(0.01)
    (venv_project / "requirements.txt").write_text("alpha\nbeta\ngamma\n")  # mid-stage edit
    flag.unlink()  # let the stage finish
    out, err = proc.communicate(timeout=120)
    # the lock stage sees the sources moved under the env and refuses to lock: one line
    assert proc.returncode == 1, out + err
    assert "requirements.txt changed since the environment was built" in err
    assert py(venv_project, "import gamma").returncode != 0  # pip read the old file
    check = pyve("build", "--check")
    assert check.returncode == 1, check.output
    assert "stale: pip-deps: requirements.txt changed" in check.stdout
    pyve("build", check=True)
    assert py(venv_project, "import gamma").returncode == 0
    assert pyve("build", "--frozen").returncode == 0  # the lock follows, no loop
