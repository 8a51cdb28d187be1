"""uv as the installer: `uv venv` and `uv pip install --python <env python>`.

uv reads neither pip.conf nor `PIP_*`: pyve reads pip's configuration as pip would
(pipconfig.py) and hands each setting uv can honour to uv's own variable or flag, so a user's
private index, find-links folders, certificates and proxy keep working. A setting uv cannot
honour is named once per build, with the way back to pip."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from pyve import proc, progress, ui
from pyve.errors import PyveError
from pyve.installers import pip, pipconfig
from pyve.installers.activity import InstallerActivity
from pyve.installers.pipconfig import Setting
from pyve.offline import is_offline
from pyve.redact import excerpt

# pip's list options split on whitespace; uv's variables on spaces, UV_FIND_LINKS on commas
_CARRIED = {
    "index-url": ("UV_INDEX_URL", " "),
    "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "trusted-host": ("UV_INSECURE_HOST", " "),
    "constraint": ("UV_CONSTRAINT", " "),
    "timeout": ("UV_HTTP_TIMEOUT", " "),
    "retries": ("UV_HTTP_RETRIES", " "),
    "default-timeout": ("UV_HTTP_TIMEOUT", " "),
}
# not uv's own settings: pip's explicit value wins over the environment's, as it does in pip
_GENERIC = {
    "cert": ("SSL_CERT_FILE",),
    "client-cert": ("SSL_CLIENT_CERT",),
    "proxy": ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"),
}
# settings that change nothing uv installs: output, prompts, pip's own checks and cache
_HARMLESS = {
    "no-index", "config-file", "disable-pip-version-check", "no-input", "quiet", "verbose",
    "progress-bar", "no-color", "cache-dir", "no-cache-dir", "root-user-action",
    "require-virtualenv", "log", "log-file", "exists-action", "no-python-version-warning",
    "python-version-warning", "break-system-packages", "isolated", "src",
}
_NUMBERS = {"timeout": float, "default-timeout": float, "retries": int}
_warned: set[str] = set()  # once per build, not once per uv call


def _check_number(option: str, setting: Setting) -> None:
    """pip refuses `timeout = abc` too; said here, the error names the user's file and key
    instead of the uv variable pyve would have set from it."""
    try:
        _NUMBERS[option](setting.value.strip())
    except ValueError:
        where = setting.origin if setting.origin.startswith("PIP_") \
            else f"{setting.origin}: {option}"
        hint = f"fix or unset {setting.origin}" if setting.origin.startswith("PIP_") else \
            "fix the value (pip cannot use it either), or set PIP_CONFIG_FILE=/dev/null to " \
            "ignore pip's files"
        raise PyveError(f"pip's configuration {where} = {excerpt(setting.value.strip())!r} is "
                        "not a number", hint=hint) from None


def find_uv() -> str | None:
    """The uv executable: on PATH, next to pyve's Python, or from the `uv` package."""
    import shutil
    import sys

    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def uv_bin() -> str:
    found = find_uv()
    if found is None:
        raise PyveError("installer is uv, but uv is not installed",
                        hint='install it (pip install uv), or set installer = "pip"')
    return found


def pip_settings(python: Path | None = None) -> dict[str, Setting]:
    env_dir = Path(python).parent.parent if python is not None else None
    return pipconfig.settings(os.environ, env_dir)


def uv_env(python: Path | None = None, *, warn: bool = False) -> dict[str, str]:
    """The environment for uv: pip's settings as uv's variables, and never a Python download
    behind our back. warn: name the pip settings uv cannot honour (once)."""
    env = pip.pip_env()
    found = pip_settings(python)
    for option, setting in found.items():
        values = setting.value.split()
        if option in _CARRIED:
            variable, separator = _CARRIED[option]
            if option in _NUMBERS and values:
                _check_number(option, setting)
            if values and not env.get(variable):
                env[variable] = separator.join(values)
        elif option in _GENERIC:
            for variable in _GENERIC[option] if values else ():
                env[variable] = setting.value.strip()
        elif warn and option not in _HARMLESS and option not in _warned:
            _warned.add(option)
            where = setting.origin if setting.origin.startswith("PIP_") \
                else f"in {setting.origin}"
            ui.info(f"  note: uv does not honour pip's `{option}` ({where}); "
                    'set installer = "pip" in pyve.toml if the build needs it')
    if env.get("UV_EXTRA_INDEX_URL") and "extra-index-url" in found:
        # pip takes the best version from any index; uv by default only looks at the first
        # index that has the package (extra indexes first), so a local mirror holding an
        # older pandas would win over PyPI's newer one. Carrying pip's indexes means pip's
        # rule, or the two installers (and the lock over a pip-built env) disagree.
        env.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    if is_offline():  # uv's own switch: its cache and local files only, no index
        env["UV_OFFLINE"] = "1"
    return env


def constraint_files(python: Path | None = None) -> list[tuple[str, str]]:
    """(file, where it was set) of each constraint file pip's configuration, PIP_CONSTRAINT
    or UV_CONSTRAINT names: what uv's install would be constrained by."""
    found = []
    setting = pip_settings(python).get("constraint")
    if setting is not None:
        found += [(f, setting.origin) for f in setting.value.split()]
    found += [(f, "UV_CONSTRAINT") for f in os.environ.get("UV_CONSTRAINT", "").split()]
    return list(dict.fromkeys(found))


def uv_index_flags(python: Path | None = None) -> list[str]:
    """uv has no variable for --no-index (it would query PyPI): pass the flag when pip's
    configuration or UV_NO_INDEX asks for it."""
    no_index = pip_settings(python).get("no-index")
    off = (no_index is not None and pipconfig.truthy(no_index.value)) \
        or pipconfig.truthy(os.environ.get("UV_NO_INDEX", ""))
    return ["--no-index"] if off else []


_INCLUDED_AT = re.compile(r"Error parsing included file in `[^`]+` at position \d+: $")
_UNPARSED = re.compile(r"Couldn't parse requirement in `([^`]+)` at position (\d+)")


def name_the_line(message: str, cwd: Path) -> str:
    """uv names a bad requirement by its offset in the file: say the line, as pip does
    (`invalid requirement 'x!' (from line 2 of requirements.txt)`)."""
    match = _UNPARSED.search(message)
    if match is None:
        return message
    try:
        text = (cwd / match.group(1)).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return message
    offset = int(match.group(2))
    number = text[:offset].count("\n") + 1
    lines = text.splitlines()
    line = lines[number - 1].strip() if number <= len(lines) else ""
    # the line named, uv's "included from `requirements.txt` at position N" says nothing more
    before = _INCLUDED_AT.sub("", message[:match.start()])
    return (before + f"invalid requirement '{excerpt(line)}' (from line "
            f"{number} of {match.group(1)})" + message[match.end():])


# `uv pip install --dry-run`'s line for a package it would install (not `name @ file://`)
_WOULD_INSTALL = re.compile(r"^\s*\+\s+([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", re.M)


class UvInstaller:
    """`uv pip` aimed at the env's interpreter: uv's resolver, pip's settings carried over."""

    name = "uv"

    def environ(self, python: Path | None = None) -> dict[str, str]:
        return uv_env(python)

    def make_venv(self, python_path: str, version: str, env: Path, cwd: Path) -> None:
        # a uv-managed Python given by path, uv links the venv to its minor-version folder
        # (cpython-3.13-...), which a `uv python upgrade` moves under the env unseen; asked by
        # its exact version, the venv is bound to that patch release, as pyve recorded it
        managed = Path(os.path.realpath(python_path)).parent.parent.name \
            .startswith(f"cpython-{version}-")
        python = ["--managed-python", "--python", version] if managed \
            else ["--python", python_path]
        proc.run([uv_bin(), "venv", "--quiet", *python, env],
                 cwd=cwd, env=uv_env(), what="uv venv")
        # pip inside, as `python -m venv` gives: `pip install x` in the activated env (the
        # Backends Guide's habit) installs there, not into another Python. The interpreter's
        # own bundled wheel, through uv's cache: no index, ~0.1 s (`uv venv --seed` asks the
        # index for the newest pip: 0.5-1.2 s online, and fails offline)
        wheel = pip.bundled_pip_wheel(python_path, version)
        if wheel is not None:
            proc.run([uv_bin(), "pip", "install", "--quiet", "--no-index", "--no-deps",
                      "--python", env / "bin" / "python", wheel],
                     cwd=cwd, env=uv_env(), what="uv pip install pip")

    def prepare(self, env: Path, python_path: str, version: str) -> None:
        return None

    def install(self, python: Path, args: list[str], cwd: Path, what: str, *,
                record_hashes: bool = False, local: Iterable[str | None] = (),
                constrained: bool = True) -> None:
        """constrained=False: without the user's constraint files (a hashed lock, already
        checked against them: uv refuses a range constraint under --require-hashes)."""
        # uv writes no install report: record_hashes is install_locked's business
        if not args:
            return
        env = uv_env(python, warn=True)
        if not constrained:
            env.pop("UV_CONSTRAINT", None)
        progress.update("resolving with uv")  # uv says nothing until it has resolved
        try:
            flags = fresh_flags(local, "--reinstall")
            proc.run([uv_bin(), "pip", "install", *uv_index_flags(python), "--python", python,
                      *flags, *args], cwd=cwd, env=env,
                     what=what.replace("pip", "uv pip", 1),
                     on_line=InstallerActivity(progress.update))  # uv's lines -> the live line
        except PyveError as exc:
            exc.message = name_the_line(exc.message, cwd)
            if exc.hint is None:
                exc.hint = pip.failure_hint(exc.message, exc.output)
            raise

    def reinstall(self, python: Path, requirements: list[str], cwd: Path, what: str) -> None:
        self.install(python, ["--no-deps", "--reinstall", *requirements], cwd, what)

    def repair(self, python: Path, pins: dict[str, str], cwd: Path) -> None:
        # uv links files from its cache (hard links on Linux): a file edited in place is
        # edited there too, and a refresh that finds the wheel unchanged relinks the same
        # unpacked files; without the cache the package is fetched and unpacked afresh
        named = [flag for name in sorted(pins) for flag in ("--reinstall-package", name)]
        self.install(python, ["--no-deps", "--no-cache", *named,
                              *(f"{n}=={v}" for n, v in sorted(pins.items()))],
                     cwd, f"pip install --reinstall-package {' '.join(sorted(pins))}")

    def install_locked(self, python: Path, requirements: Path, cwd: Path, what: str,
                       hashes: dict[str, list[str]], replace: tuple[str, ...] = (),
                       reread: bool = False) -> None:
        # --reinstall-package, not --reinstall: that one refreshes uv's whole cache (every
        # wheel read again), where a missing or other-version entry is installed anyway;
        # uv's cache answers for a local wheel changed since it was cached, so --frozen
        # (`reread`) pays the refresh and a tampered file is refused
        again = ["--reinstall"] if reread else \
            [f"--reinstall-package={name}" for name in replace]
        self.install(python, ["--require-hashes", "--no-deps", *again, "-r",
                              str(requirements)], cwd, what, constrained=False)
        # no report: each file matched one of the lock's hashes, or uv refused it
        pip.record_hashes(python, hashes)

    def would_install(self, python: Path, args: list[str], cwd: Path) -> dict[str, str]:
        """`uv pip install --dry-run`: uv writes no report, but one ` + name==version` line
        per package it would install (1 s where pip's dry run took 30 s online)."""
        if not args:
            return {}
        progress.update("resolving with uv (dry run)")
        try:
            output = proc.run([uv_bin(), "pip", "install", "--dry-run", *uv_index_flags(python),
                               "--python", python, *args], cwd=cwd,
                              env=uv_env(python), what="uv pip install --dry-run")
        except PyveError as exc:
            exc.message = name_the_line(exc.message, cwd)
            if exc.hint is None:
                exc.hint = pip.failure_hint(exc.message)
            raise
        return {pip.canonical_name(m.group(1)): m.group(2)
                for m in _WOULD_INSTALL.finditer(output)}

    def uninstall(self, python: Path, names: list[str], cwd: Path) -> None:
        proc.run([uv_bin(), "pip", "uninstall", "--python", python, *names], cwd=cwd,
                 env=uv_env(python), what="uv pip uninstall")


UV = UvInstaller()


def fresh_flags(local: Iterable[str | None], verb: str) -> list[str]:
    """uv keys its cache of a local project's metadata on pyproject.toml, setup.py and
    setup.cfg only: a project whose dependencies come from a requirements file (setuptools'
    or hatch's dynamic metadata) would keep its old ones. `--reinstall-package NAME` (or
    `--refresh-package`, verb "--refresh") builds each local project again; one whose name
    is unknown refreshes the whole cache (`--refresh`)."""
    names = list(local)
    if any(name is None for name in names):
        return ["--refresh"]
    return [flag for name in dict.fromkeys(names) for flag in (f"{verb}-package", str(name))]


def install_python(request: str) -> str:
    """Install a managed CPython satisfying `request` into uv's own Python folder (`uv python
    dir`), and return its executable. Everything else uv calls never downloads a Python
    (uv_env); here the download is the point. UV_PYTHON_INSTALL_MIRROR and
    UV_PYTHON_DOWNLOADS_JSON_URL reach uv as the user set them. --no-bin: nothing is put on
    the user's PATH (~/.local/bin), as uv's own on-demand download does not either. uv unpacks
    into a temporary folder and renames it in place: a failed download leaves nothing."""
    env = {k: v for k, v in os.environ.items() if k != "UV_PYTHON_DOWNLOADS"}
    proc.run([uv_bin(), "python", "install", "--no-bin", "--no-progress", request],
             env=env, what=f"uv python install {request}")
    found = proc.run([uv_bin(), "python", "find", "--managed-python", "--no-python-downloads",
                      request], env=env, what=f"uv python find {request}")
    return found.strip().splitlines()[-1].strip()
