"""locking.project_lock: exclusive; a command that leaves nothing leaves no .pyve/ either."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.locking import project_lock


def test_failed_command_leaves_no_state_dir(tmp_path: Path) -> None:
    state = tmp_path / ".pyve"
    with pytest.raises(RuntimeError), project_lock(state):
        assert (state / "lock").is_file()
        raise RuntimeError("invalid backend")
    assert not state.exists()
    with project_lock(state):
        pass
    assert not state.exists()


def test_state_dir_kept_when_used_or_preexisting(tmp_path: Path) -> None:
    state = tmp_path / ".pyve"
    with project_lock(state):
        (state / "state.json").write_text("{}")
    assert (state / "state.json").exists()
    (state / "state.json").unlink()
    with project_lock(state):
        pass
    assert state.is_dir()  # it was there before: not ours to remove
