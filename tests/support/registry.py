"""A real OCI registry on 127.0.0.1: the CNCF distribution registry (Debian's docker-registry),
started per test session in a temp folder, stopped by its pid. Skips where it is absent."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BINARY = "/usr/bin/docker-registry"
USER, PASSWORD = "ci-user", "s3cret-Pa55"


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    pid: int

    def url(self, repository: str) -> str:
        return f"oci+http://{self.host}/{repository}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(folder: Path, *, htpasswd: Path | None = None,
                   ) -> tuple[Registry, subprocess.Popen[bytes]]:
    if not os.access(BINARY, os.X_OK):
        pytest.skip(f"{BINARY} absent (apt-get install -y docker-registry)")
    host = f"127.0.0.1:{_free_port()}"
    auth = (f"auth:\n  htpasswd:\n    realm: pyve-test\n    path: {htpasswd}\n"
            if htpasswd else "")
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'registry'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {host}\n{auth}")
    process = subprocess.Popen([BINARY, "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{host}/v2/", timeout=2) as response:
                if response.status == 200:
                    break
        except urllib.error.HTTPError as err:
            if err.code == 401 and htpasswd:  # up, and asking for credentials
                break
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}")
        time.sleep(0.1)
    else:
        os.kill(process.pid, signal.SIGTERM)
        raise RuntimeError("docker-registry did not answer GET /v2/ within 30 s")
    return Registry(host, process.pid), process


def stop_registry(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("oci-registry")
    registry, process = start_registry(folder)
    yield registry
    stop_registry(process)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def oci_registry_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry asking for USER/PASSWORD (htpasswd with a bcrypt entry)."""
    bcrypt = pytest.importorskip("bcrypt")
    folder = tmp_path_factory.mktemp("oci-registry-auth")
    htpasswd = folder / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    registry, process = start_registry(folder, htpasswd=htpasswd)
    yield registry
    stop_registry(process)
    shutil.rmtree(folder, ignore_errors=True)
