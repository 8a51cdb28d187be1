"""pip stages shared by both backends: install a project's pip dependencies, and write the
hashed, pinned requirements lock. Always `<env python> -m pip`, never a bare `pip`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pyve import proc
from pyve.errors import PyveError
from pyve.fsutil import atomic_write_text

LOCK_FILE = "requirements.lock.txt"
LOCK_HEADER = "# requirements.lock.txt -- written by pyve from the environment; do not edit."


def install_args(sources: list[str]) -> list[str]:
    """pip arguments for the project files the user agreed to install from."""
    args: list[str] = []
    for source in sources:
        if source == "pyproject.toml":
            args += ["-e", "."]
        else:
            args += ["-r", source]
    return args


def pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.pop("PYTHONHOME", None)
    return env


def install(python: Path, args: list[str], cwd: Path, what: str) -> None:
    """`python -m pip install ARGS`; a failure names the package and pip's last error line."""
    if not args:
        return
    proc.run(
        [python, "-m", "pip", "install", "--no-input", *args], cwd=cwd, env=pip_env(), what=what,
        hint="fix the requirement or the index settings (PIP_INDEX_URL, PIP_FIND_LINKS), "
        "then run `pyve build`",
    )


def write_lock(python: Path, root: Path, lock_name: str = LOCK_FILE) -> Path:
    """Pin every installed distribution with the sha256 of the file pip would install,
    in a file `pip install --require-hashes -r` accepts. Same env -> same bytes."""
    lock = root / lock_name
    if lock.exists() and not lock.read_text(encoding="utf-8").startswith(LOCK_HEADER):
        raise PyveError(
            f"{lock_name} exists and was not written by pyve; refusing to overwrite it",
            hint=f"rename or delete {lock_name} if pyve may own it",
        )
    frozen = proc.run(
        [python, "-m", "pip", "freeze", "--exclude-editable"], cwd=root, env=pip_env(),
        what="pip freeze",
    )
    pins = [line for line in frozen.splitlines() if line and not line.startswith(("#", "-e"))]
    entries = _hashes(python, root, pins) if pins else {}
    lines = [LOCK_HEADER, "# Install with: pip install --require-hashes -r " + lock_name]
    for name in sorted(entries, key=str.lower):
        version, sha256 = entries[name]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha256}")
    atomic_write_text(lock, "\n".join(lines) + "\n")
    return lock


def _hashes(python: Path, root: Path, pins: list[str]) -> dict[str, tuple[str, str]]:
    """Resolve the exact pins again without installing (pip's report carries sha256 of
    every archive, computed by pip for local files too)."""
    with tempfile.TemporaryDirectory(prefix="pyve-lock-") as tmp:
        pin_file = Path(tmp) / "pins.txt"
        report = Path(tmp) / "report.json"
        pin_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
        proc.run(
            [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
             "--quiet", "--report", report, "-r", pin_file],
            cwd=root, env=pip_env(), what="pip (resolving hashes for the lock)",
            hint="every installed package must be available from the index to be locked",
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    entries: dict[str, tuple[str, str]] = {}
    for item in data.get("install", []):
        meta = item["metadata"]
        info = item.get("download_info", {}).get("archive_info", {})
        sha256 = info.get("hashes", {}).get("sha256") or _split_hash(info.get("hash", ""))
        if not sha256:
            raise PyveError(f"no sha256 known for {meta['name']}=={meta['version']}",
                            hint="install it from an index or a wheel file")
        entries[meta["name"]] = (meta["version"], sha256)
    return entries


def _split_hash(text: str) -> str | None:
    algo, _, value = text.partition("=")
    return value if algo == "sha256" and value else None
