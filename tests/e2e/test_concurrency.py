"""Two `pyve build` started at once: both exit 0, one correct environment (the lock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.helpers import py


def test_two_builds_at_once(project: Path, sandbox_env: dict[str, str]) -> None:
    (project / "requirements.txt").write_text("beta\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    procs = [subprocess.Popen([sys.executable, "-m", "pyve", "build"], cwd=project,
                              env=sandbox_env, stdin=subprocess.DEVNULL, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
    ran = [out for out, _ in outputs if "Ran 4 of 4 stages" in out]
    idle = [out for out, _ in outputs if "Nothing to do" in out]
    assert len(ran) == 1 and len(idle) == 1, outputs
    assert py(project, "import alpha, beta; assert alpha.__version__ == '2.0'").returncode == 0
    lock = (project / "requirements.lock.txt").read_text()
    assert "alpha==2.0" in lock and "beta==1.0" in lock
    assert not (project / ".pyve" / "lock").read_text().strip() == ""
