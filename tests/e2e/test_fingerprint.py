"""`pyve fingerprint`: content-only keys -- same in a clone elsewhere, and an edit changes
the edited stage's key and those downstream, no other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import PyveRunner


def keys(pyve: PyveRunner, cwd: Path) -> dict[str, str]:
    out = pyve("fingerprint", "--all", cwd=cwd, check=True).stdout
    return dict(line.split() for line in out.splitlines())


def test_keys_are_portable_and_local(project: Path, pyve: PyveRunner, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    clone = tmp_path / "elsewhere" / "copy"
    shutil.copytree(project, clone)
    first, cloned = keys(pyve, project), keys(pyve, clone)
    assert first == cloned
    assert set(first) == {"detect", "create-env", "pip-deps", "freeze", "env"}
    assert pyve("fingerprint", cwd=clone, check=True).stdout.strip() == first["env"]
    assert pyve("fingerprint", "--stage", "pip-deps", check=True).stdout.strip() == \
        first["pip-deps"]
    data = json.loads(pyve("fingerprint", "--json", check=True).stdout)
    assert data["fingerprint"] == first["env"]

    (clone / "requirements.txt").write_text("gamma\nalpha==1.0\n")
    edited = keys(pyve, clone)
    changed = {name for name in first if first[name] != edited[name]}
    assert changed == {"pip-deps", "freeze", "env"}

    bad = pyve("fingerprint", "--stage", "nope")
    assert bad.returncode == 2 and "no stage 'nope'" in bad.stderr
