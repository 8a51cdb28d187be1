"""An environment's key in the remote cache: its portable fingerprint (`pyve fingerprint`,
the same for a clone at any path) plus what makes a built env unusable on another machine:
the platform, the interpreter's exact version and ABI, and the C library."""

from __future__ import annotations

import json
import platform
import subprocess
from typing import Any

from pyve.fingerprint import data_digest, platform_tag

_ABI = ("import json, platform, sys, sysconfig; print(json.dumps({"
        "'version': platform.python_version(), 'implementation': sys.implementation.name, "
        "'cache_tag': sys.implementation.cache_tag, 'soabi': sysconfig.get_config_var('SOABI'),"
        " 'abiflags': getattr(sys, 'abiflags', ''), 'libc': list(platform.libc_ver())}))")


_ASKED: dict[tuple[str | None, str | None], dict[str, Any]] = {}


def interpreter_facts(python_path: str | None, version: str | None) -> dict[str, Any]:
    """The interpreter's exact version, ABI and the libc it runs on; without one to ask (a
    conda env's Python comes from its specs, which the fingerprint holds) the version pyve
    decided and the libc of this machine. Asked once per process: a build that misses and
    then pushes needs the key twice (its fingerprint again, as the build may have written an
    input), the interpreter's facts once."""
    if (python_path, version) not in _ASKED:
        _ASKED[(python_path, version)] = _ask(python_path, version)
    return dict(_ASKED[(python_path, version)])


def _ask(python_path: str | None, version: str | None) -> dict[str, Any]:
    if python_path:
        try:
            out = subprocess.run([python_path, "-c", _ABI], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
            facts = json.loads(out)
            if isinstance(facts, dict):
                return facts
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    return {"version": version, "libc": list(platform.libc_ver())}


def env_key(fingerprint: str, backend: str, python_path: str | None,
            version: str | None) -> tuple[str, dict[str, Any]]:
    """(key, what it is made of). Keys are lowercase hex: valid as an OCI tag and in S3."""
    facts = {"format": 1, "fingerprint": fingerprint, "backend": backend,
             "platform": platform_tag(), "python": interpreter_facts(python_path, version)}
    return data_digest(facts), facts
