"""What puts a venv's packages in place: pip or uv, behind one small protocol (as tox's
`Installer`), so no module outside this package asks which one it is.

The choice is `PYVE_INSTALLER`, else `installer` in pyve.toml, else uv. Both installers make a
venv with pip inside (the habit `pip install x` in an activated env keeps working), install
and uninstall with the env's interpreter named explicitly, and report failures with the same
hints; only pip writes an install report, so uv is told the hashes of a locked install."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from pyve.errors import UsageError

NAMES = ("uv", "pip")  # the default first


class Installer(Protocol):
    name: str

    def environ(self, python: Path | None = None) -> dict[str, str]:
        """The environment its processes run with (index settings, certificates, proxy)."""
        ...

    def make_venv(self, python_path: str, version: str, env: Path, cwd: Path) -> None:
        """A new venv at `env` from the interpreter at `python_path`, with pip inside."""
        ...

    def prepare(self, env: Path, python_path: str, version: str) -> None:
        """Whatever the env needs before `install` (pip itself, for pip)."""
        ...

    def install(self, python: Path, args: list[str], cwd: Path, what: str, *,
                record_hashes: bool = False, local: Iterable[str | None] = ()) -> None:
        """`pip install ARGS` into the env of `python`; a failure carries a hint that fits it.
        record_hashes: remember the sha256 of each file installed (for `--frozen`).
        local: the names of the local projects ARGS install (None: one without a known
        name); their metadata is read afresh, whatever an installer's cache holds."""
        ...

    def reinstall(self, python: Path, requirements: list[str], cwd: Path, what: str) -> None:
        """Install these requirements again, without dependencies, even when the same
        version is installed (a local folder whose code changed: uv keeps the old build)."""
        ...

    def repair(self, python: Path, pins: dict[str, str], cwd: Path) -> None:
        """Reinstall exactly these installed distributions (name -> their version), without
        dependencies, from files fetched afresh: one whose files were changed in the env."""
        ...

    def install_locked(self, python: Path, requirements: Path, cwd: Path, what: str,
                       hashes: dict[str, list[str]], replace: tuple[str, ...] = (),
                       reread: bool = False) -> None:
        """Install a hashed requirements file's entries, hash-checked, without dependencies,
        and remember which file each came from (`hashes`: name==version -> the lock's
        hashes). `replace`: entries installed at their locked version already, from a file
        not checked against the lock, which must be installed again. `reread` (--frozen):
        every file is read again from its source and checked, none taken from the
        installer's cache, so a wheel changed since it was cached is refused."""
        ...

    def uninstall(self, python: Path, names: list[str], cwd: Path) -> None:
        """Remove these distributions from the env of `python`."""
        ...

    def would_install(self, python: Path, args: list[str], cwd: Path) -> dict[str, str]:
        """What `pip install ARGS` would install or change in the env of `python`, nothing
        installed: canonical name -> version. A requirement that cannot be resolved fails
        here, with the hint an install failure gets."""
        ...


def get_installer(name: str) -> Installer:
    if name == "uv":
        from pyve.installers.uv import UV

        return UV
    if name == "pip":
        from pyve.installers.pip import PIP

        return PIP
    raise ValueError(f"unknown installer {name!r}")  # choose() validated it already


def uninstaller(installer: Installer) -> Installer:
    """Who uninstalls for `installer`: uv where it is installed, even for pip (it removes
    the same RECORDed files in ~10 ms, where a pip process needs ~0.8 s to start)."""
    from pyve.installers import uv

    return uv.UV if installer.name == "pip" and uv.find_uv() else installer


def choose(from_environ: str | None, from_config: object,
           usable: tuple[str, ...] = NAMES) -> str:
    """PYVE_INSTALLER > pyve.toml `installer` > the first usable one (uv for a venv); a name
    neither pip nor uv is an error. A backend that installs with one installer only (conda's
    env runs its own pip) gets that one, whatever the setting says."""
    where = "PYVE_INSTALLER" if from_environ else "pyve.toml"
    value = str(from_environ or from_config or usable[0]).strip().lower()
    if value not in NAMES:
        raise UsageError(f"invalid installer {value!r} in {where}", hint="valid: pip, uv")
    return value if value in usable else usable[0]
