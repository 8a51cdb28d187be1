"""The remote cache: a built environment shared across machines, keyed by its content.

A lower-layer service the build command calls: which store (`settings`), the key (`key.py`),
the artifact (`artifact.py`: pack, manifest, verify, unpack with member checks) and the
stores (`store.py`, `s3.py`, `oci.py`). It knows nothing of stages or backends: the command
hands it the env folder and pyve's records of it, and the backend relocates what it unpacked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

URL_VAR = "PYVE_REMOTE_CACHE"  # wins over pyve.toml; set but empty: no remote cache
PUSH_VAR = "PYVE_REMOTE_CACHE_PUSH"  # 0/false: pull only (pull requests from forks)
TIMEOUT = 10.0  # seconds per store call: a store down or slow costs this, never the build


@dataclass(frozen=True)
class Settings:
    url: str
    push: bool


def settings(config: dict[str, Any]) -> Settings | None:
    """The remote cache this build uses (PYVE_REMOTE_CACHE, else pyve.toml's remote_cache),
    or None."""
    from pyve.offline import is_offline
    from pyve.words import switch

    url = os.environ[URL_VAR] if URL_VAR in os.environ else config.get("remote_cache") or ""
    url = url.strip()
    if not url or is_offline():
        return None
    push = switch(os.environ.get(PUSH_VAR))
    if push is None:  # unset (or not a yes/no word): pyve.toml's remote_cache_push
        push = config.get("remote_cache_push", True) is not False
    return Settings(url, push)
