"""pip's configuration as `pip install` sees it, read without pip (uv builds need it, and
pyve's own environment may have no pip).

pip's documented order: the global files, then the user's, then the env's own `pip.conf`,
then `PIP_CONFIG_FILE`, each file overriding the ones before (`PIP_CONFIG_FILE=/dev/null`
reads none; an existing `PIP_CONFIG_FILE` hides the user's files). Across all files, an
`[install]` section wins over `[global]`, and `PIP_*` variables win over every file.
tests/unit/test_pipconfig.py checks this against `pip config list` on the same files.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pyve.errors import PyveError, first_line


@dataclass(frozen=True)
class Setting:
    value: str
    origin: str  # the file it was read from, or the PIP_* variable


def config_files(environ: Mapping[str, str], env_dir: Path | None = None) -> list[str]:
    """pip's configuration files in the order pip loads them (later ones override)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files = _global_files(environ)
    if not (env_file and os.path.exists(env_file)):
        files += _user_files(environ)
    if env_dir is not None:
        files.append(str(env_dir / "pip.conf"))
    if env_file:
        files.append(env_file)
    return files


def _global_files(environ: Mapping[str, str]) -> list[str]:
    if sys.platform == "darwin":
        return ["/Library/Application Support/pip/pip.conf"]
    dirs = (environ.get("XDG_CONFIG_DIRS") or "").strip() or "/etc/xdg"
    return [os.path.join(d, "pip", "pip.conf") for d in dirs.split(os.pathsep)] + \
        ["/etc/pip.conf"]


def _user_files(environ: Mapping[str, str]) -> list[str]:
    home = environ.get("HOME") or os.path.expanduser("~")
    legacy = os.path.join(home, ".pip", "pip.conf")
    if sys.platform == "darwin":
        library = os.path.join(home, "Library", "Application Support", "pip")
        user = library if os.path.isdir(library) else os.path.join(home, ".config", "pip")
    else:
        user = os.path.join((environ.get("XDG_CONFIG_HOME") or "").strip()
                            or os.path.join(home, ".config"), "pip")
    return [legacy, os.path.join(user, "pip.conf")]


def settings(environ: Mapping[str, str], env_dir: Path | None = None) -> dict[str, Setting]:
    """option name (`index-url`) -> its value and where it came from, for `pip install`."""
    merged: dict[tuple[str, str], Setting] = {}
    for path in config_files(environ, env_dir):
        for section, key, value in _read(path):
            merged[(section, key)] = Setting(value, path)
    found = {key: s for (section, key), s in merged.items() if section == "global"}
    found.update({key: s for (section, key), s in merged.items() if section == "install"})
    for name, value in environ.items():
        if name.startswith("PIP_") and name[4:].lower() not in ("version", "help"):
            found[_normalize(name[4:])] = Setting(value, name)
    return found


def _read(path: str) -> list[tuple[str, str, str]]:
    if not os.path.isfile(path):
        return []
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise PyveError(f"cannot read pip's configuration {path}: {first_line(exc)}",
                        hint="fix the file (pip cannot read it either), or set "
                             "PIP_CONFIG_FILE=/dev/null to ignore pip's files") from None
    return [(section, _normalize(key), value) for section in parser.sections()
            for key, value in parser.items(section)]


def _normalize(name: str) -> str:
    """pip's spelling of an option: `INDEX_URL`, `index_url`, `--index-url` -> `index-url`."""
    return name.lower().replace("_", "-").removeprefix("--")


def truthy(value: str) -> bool:
    """pip's reading of a flag (`no-index = yes`, `PIP_NO_INDEX=1`)."""
    return value.strip().lower() in ("1", "y", "yes", "t", "true", "on")
