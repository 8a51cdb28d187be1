"""projectlock: which lock applies, its pins, and when it no longer fits pyproject.toml (the
builds themselves are in tests/e2e/test_project_lock.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyve import projectlock
from tests.conftest import write_tiny_project
from tests.support.wheel_fixtures import build_simple_index


def _uv() -> str:
    from pyve.installers.uv import find_uv

    found = find_uv()
    if found is None:
        pytest.skip("uv is not installed")
    return found


@pytest.fixture
def uv_project(tmp_path: Path, wheelhouse: Path) -> Path:
    root = tmp_path / "proj"
    write_tiny_project(root, ("alpha", "beta"))
    index = build_simple_index(wheelhouse, tmp_path / "index")
    done = subprocess.run([_uv(), "lock", "--offline", "--index-url", index, "--python",
                           sys.executable], cwd=root, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "UV_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    return root


def _edit(root: Path, old: str, new: str) -> None:
    text = (root / "pyproject.toml").read_text()
    assert old in text
    (root / "pyproject.toml").write_text(text.replace(old, new))


def test_uv_lock_that_fits(uv_project: Path) -> None:
    assert projectlock.choose(uv_project, ["pyproject.toml"], {}) == "uv.lock"
    assert projectlock.choose(uv_project, ["pyproject.toml"], {"project_lock": False}) is None
    assert projectlock.choose(uv_project, ["requirements.txt"], {}) is None
    assert projectlock.stale(uv_project, "uv.lock", (), (), sys.executable) is None
    assert projectlock.pins(uv_project, "uv.lock", (), ()) == {"alpha": "2.0", "beta": "1.0"}


@pytest.mark.parametrize(("old", "new", "why"), [
    ('["alpha", "beta"]', '["alpha", "beta", "gamma"]', "it does not pin gamma"),
    ('["alpha", "beta"]', '["alpha<2", "beta"]',
     "it pins alpha 2.0; pyproject.toml asks for alpha<2"),
    # still met by the pins, but not what uv locked: what `uv lock --check` finds, offline
    ('["alpha", "beta"]', '["alpha"]', "beta was removed from the dependencies"),
    ('["alpha", "beta"]', '["alpha>=1", "beta"]', "alpha is now >=1, locked as any version"),
])
def test_uv_lock_that_no_longer_fits(uv_project: Path, old: str, new: str, why: str) -> None:
    before = (uv_project / "uv.lock").read_bytes()
    _edit(uv_project, old, new)
    assert projectlock.stale(uv_project, "uv.lock", (), (), sys.executable) == why
    assert (uv_project / "uv.lock").read_bytes() == before


PDM_LOCK = '''[metadata]
groups = ["default", "test"]

[[package]]
name = "alpha"
version = "1.0"
groups = ["default"]

[[package]]
name = "gamma"
version = "0.1"
groups = ["test"]

[[package]]
name = "six"
version = "1.0"
groups = ["default"]

[[package]]
name = "six"
version = "2.0"
groups = ["default"]
'''


def test_pdm_lock_pins_by_group(tmp_path: Path) -> None:
    write_tiny_project(tmp_path, ("alpha",))
    (tmp_path / "pdm.lock").write_text(PDM_LOCK)
    # a package locked at two versions (per platform) is left to the resolver
    assert projectlock.pins(tmp_path, "pdm.lock", (), ()) == {"alpha": "1.0"}
    assert projectlock.pins(tmp_path, "pdm.lock", (), ("test",)) == {"alpha": "1.0",
                                                                     "gamma": "0.1"}
    assert projectlock.stale(tmp_path, "pdm.lock", (), ("test",), "") is None
    assert projectlock.stale(tmp_path, "pdm.lock", (), ("docs",), "") == \
        "it has no group 'docs'"


def test_pylock_markers_with_extras_and_groups(tmp_path: Path) -> None:
    write_tiny_project(tmp_path, ("alpha",))
    sha = "0" * 64
    (tmp_path / "pylock.toml").write_text(f'''lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "alpha"
version = "1.0"
wheels = [{{ name = "alpha-1.0-py3-none-any.whl", hashes = {{ sha256 = "{sha}" }} }}]

[[packages]]
name = "gamma"
version = "0.1"
marker = "'more' in extras"
wheels = [{{ name = "gamma-0.1-py3-none-any.whl", hashes = {{ sha256 = "{sha}" }} }}]

[[packages]]
name = "beta"
version = "1.0"
marker = "sys_platform == 'no-such-platform'"
wheels = [{{ name = "beta-1.0-py3-none-any.whl", hashes = {{ sha256 = "{sha}" }} }}]
''')
    assert projectlock.pylock_requirements(tmp_path, (), ()) == \
        f"alpha==1.0 --hash=sha256:{sha}\n"
    assert "gamma==0.1" in projectlock.pylock_requirements(tmp_path, ("more",), ())
    assert projectlock.refresh_command(tmp_path, "pylock.toml") == "re-create it with uv"
