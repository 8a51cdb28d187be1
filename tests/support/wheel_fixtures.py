"""Tiny pure-Python wheels for offline pip tests (no build backend needed).

`build_wheel(dir, name, version, requires)` writes one wheel; `build_wheelhouse(dir)` writes the
default set: alpha 1.0, alpha 2.0, beta 1.0 (requires alpha>=1), gamma 0.1.
Install with `pip install --no-index --find-links <dir> ...`.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

DEFAULT_SET: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alpha", "1.0", ()),
    ("alpha", "2.0", ()),
    ("beta", "1.0", ("alpha>=1",)),
    ("gamma", "0.1", ()),
)
# Fixed timestamp so a rebuilt wheel has the same bytes (and sha256).
_DATE = (2024, 1, 1, 0, 0, 0)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(dir: Path, name: str, version: str, requires: Iterable[str] = (),
                tag: str = "py3-none-any", extras: Iterable[str] = (), code: str = "",
                requires_python: str | None = None, module: str | None = None) -> Path:
    """Write `<dir>/<name>-<version>-<tag>.whl` (module `<name>`, or `module`, with
    __version__ and `code`: two distributions may ship one module); `extras` are declared
    with Provides-Extra (their requirements go in `requires`
    with a marker); `requires_python` is its Requires-Python."""
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    stem = canonicalize_name(name).replace("-", "_")
    module = module or stem
    dist_info = f"{stem}-{version}.dist-info"
    metadata = "".join([
        "Metadata-Version: 2.1\n", f"Name: {name}\n", f"Version: {version}\n",
        *([f"Requires-Python: {requires_python}\n"] if requires_python else []),
        *(f"Provides-Extra: {e}\n" for e in extras),
        *(f"Requires-Dist: {r}\n" for r in requires),
    ])
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n{code}'.encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: pyve-tests\n"
                               b"Root-Is-Purelib: true\nTag: " + tag.encode() + b"\n"),
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dir / f"{stem}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, date_time=_DATE), data)
    return wheel


def build_wheelhouse(dir: Path) -> Path:
    """Write the default wheel set into `dir`; return `dir`."""
    dir = Path(dir)
    for name, version, requires in DEFAULT_SET:
        build_wheel(dir, name, version, requires)
    return dir


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_simple_index(house: Path, dest: Path) -> str:
    """A PEP 503 "simple" index over the wheels in `house`, as plain files (pip and uv read
    file:// indexes): dest/<name>/index.html links each wheel with its sha256. Returns the
    index URL."""
    by_name: dict[str, list[Path]] = {}
    for wheel in sorted(Path(house).glob("*.whl")):
        by_name.setdefault(canonicalize_name(wheel.name.split("-")[0]), []).append(wheel)
    for name, wheels in by_name.items():
        links = "".join(f'<a href="{w.as_uri()}#sha256={file_sha256(w)}">{w.name}</a>\n'
                        for w in wheels)
        (dest / name).mkdir(parents=True, exist_ok=True)
        (dest / name / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    (dest / "index.html").write_text("".join(f'<a href="{n}/">{n}</a>\n' for n in by_name))
    return Path(dest).as_uri()
