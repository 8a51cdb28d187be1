"""pyve's own files, damaged every way: read as "damaged" (a rebuild), never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doit.dependency import JSONCodec

from pyve import state
from pyve.backends.detect import damaged_json
from pyve.backends.venv.backend import read_marker

DAMAGED = [b"", b"{", b'{"a": ', b"\x00\xff\xfe", b"[1, 2]", b"null", b"42", b'"text"',
           "{\"ä\": 1".encode("latin-1")]


@pytest.mark.parametrize("data", DAMAGED)
def test_state_db_forgives_damage(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(data)
    state.damaged_files.clear()
    db = state.AtomicJsonDB(str(path), JSONCodec())
    assert db._db == {} and state.damaged_files == [str(path)]
    db.set("task", "key", "value")
    db.dump()
    assert json.loads(path.read_text()) == {"task": {"key": "value"}}
    assert path.stat().st_mode & 0o022 == 0  # not group/world-writable


@pytest.mark.parametrize("data", DAMAGED)
def test_damaged_json_check(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.solution.json"
    path.write_bytes(data)
    reason = damaged_json(path, list, dict, what="the recorded solve")
    assert reason == "the recorded solve is damaged"  # words, not pyve's file names
    path.write_text('[{"url": "u"}]')
    assert damaged_json(path, list, dict, what="it") is None
    path.unlink()
    assert damaged_json(path, list, dict, what="it") is None  # missing: the stage's target says it


@pytest.mark.parametrize("data", [*DAMAGED, b'{"python": 3}', b'{"python": "3.11.7"}',
                                  b'{"python": "3.11.7", "interpreter": []}'])
def test_read_marker_damaged(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / ".pyve-env.json"
    path.write_bytes(data)
    assert read_marker(path) is None
    path.write_text('{"python": "3.11.7", "interpreter": {}}')
    assert read_marker(path) == {"python": "3.11.7", "interpreter": {}}
