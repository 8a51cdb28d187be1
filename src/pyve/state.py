"""doit's state file, written atomically; a damaged file is reported once and rebuilt."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from doit.dependency import JsonDB

from pyve.fsutil import atomic_write_text

damaged_files: list[str] = []  # read by the command to say "state was damaged; rebuilding"


class AtomicJsonDB(JsonDB):  # type: ignore[misc]
    """JsonDB whose dump is temp file + rename, and whose load forgives a damaged file."""

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        self.name = name
        self.codec = codec
        self._db: dict[str, Any] = {}
        if os.path.exists(name):
            try:
                data = codec.decode(Path(name).read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                self._db = data
            except (ValueError, UnicodeDecodeError):
                damaged_files.append(name)  # every stage re-runs: the safe answer

    def dump(self) -> None:
        # private: stage settings come from the user's files (pip options, channels)
        atomic_write_text(Path(self.name), self.codec.encode(self._db), mode=0o600)
