"""Helpers shared by the conda (micromamba backend) end-to-end tests."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result
from tests.support.helpers import stage_line  # noqa: F401 - re-exported for conda tests


def envfile_text(channel: Path | str, deps: list[str], pip: list[str] | None = None,
                 platforms: list[str] | None = None, extra: str = "") -> str:
    lines = [f"channels:\n  - {channel}", "dependencies:"]
    lines += [f"  - {d}" for d in deps]
    if pip is not None:
        lines.append("  - pip:")
        lines += [f"    - {p}" for p in pip]
    if platforms:
        lines.append("platforms: [" + ", ".join(platforms) + "]")
    return "\n".join(lines) + "\n" + extra


def write_envfile(project: Path, channel: Path, deps: list[str],
                  pip: list[str] | None = None, platforms: list[str] | None = None,
                  extra: str = "") -> Path:
    path = project / "environment.yml"
    path.write_text(envfile_text(channel, deps, pip, platforms, extra))
    return path


# The env with python, pip and a pip package: locked for linux-64 only (python is linux-only
# in `local_channel`).
def python_env(project: Path, channel: Path, pip: list[str] | None = None,
               deps: tuple[str, ...] = ("bar",), extra: str = "") -> Path:
    return write_envfile(project, channel, ["python", *deps, "pip"],
                         pip=["beta"] if pip is None else pip, platforms=["linux-64"],
                         extra=extra)


def ran(output: str, stage: str) -> bool:
    return " ran " in stage_line(output, stage)


def up_to_date(output: str, stage: str) -> bool:
    return "up to date" in stage_line(output, stage)


def env_dirs(project: Path) -> list[Path]:
    envs = project / ".pyve" / "envs"
    return sorted(p for p in envs.iterdir() if p.is_dir()) if envs.is_dir() else []


def only_env(project: Path) -> Path:
    dirs = env_dirs(project)
    assert len(dirs) == 1, dirs
    return dirs[0]


def read_lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "conda-lock.yml").read_text())


def assert_valid_lock(path: Path) -> Any:
    """conda-lock's own parser accepts the file (the oracle)."""
    from conda_lock.lockfile import parse_conda_lock_file

    return parse_conda_lock_file(Path(path))


def installed_urls(prefix: Path) -> set[str]:
    return {json.loads(p.read_text())["url"] for p in (prefix / "conda-meta").glob("*.json")}


def lock_urls(lock: dict[str, Any], platform: str, manager: str = "conda") -> set[str]:
    return {p["url"] for p in lock["package"]
            if p["platform"] == platform and p["manager"] == manager}


def snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file outside .pyve/stamps, state, lock and the fast path's
    snapshot (a cache every build drops first): "nothing changed"."""
    result = {}
    for root, dirs, files in os.walk(project):
        dirs.sort()
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(project).as_posix()
            if rel in (".pyve/lock", ".pyve/state.json", ".pyve/fast.json") \
                    or rel.startswith(".pyve/stamps/"):
                continue
            if rel == "environment.yml":
                continue  # the test edits it
            st = path.lstat()
            result[rel] = (st.st_size, st.st_mtime_ns)
    return result


def assert_one_error(result: Result, *needles: str) -> None:
    """Non-zero exit, no traceback, and an `error:` line holding every needle."""
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], (needle, result.output)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, requested: list[str], auth: str | None = None,
                 **kwargs: Any) -> None:
        self.requested = requested
        self.auth = auth
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        if self.auth is not None and self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="channel"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.command == "GET":
            self.requested.append(self.path)
        # always the whole file: rattler 0.28 treats a 304 for sharded repodata as an error
        del self.headers["If-Modified-Since"]
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@dataclass
class Served:
    """A folder on a loopback port: `f"{served}/chan"` is a channel URL; `requested` lists
    the paths asked for with GET, in order."""
    url: str
    requested: list[str]

    def __str__(self) -> str:
        return self.url


@contextlib.contextmanager
def served_over_http(folder: Path, auth: tuple[str, str] | None = None) -> Iterator[Served]:
    """`folder` served on a loopback port, as a remote channel is; with `auth` (user,
    password), only to requests carrying that basic auth (401 to the others). Skips the
    test where there is no loopback (.ci/run brings lo up in its network namespace; a bare
    `unshare -n` does not)."""
    requested: list[str] = []
    header = None
    if auth is not None:
        header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(_QuietHandler, directory=str(folder), requested=requested,
                          auth=header))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        try:
            socket.create_connection(server.server_address[:2], timeout=5).close()
        except OSError as exc:
            pytest.skip(f"no loopback network here: {exc}")
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", requested)
    finally:
        server.shutdown()
        server.server_close()
