"""Activating the environment outside `pyve run`: `pyve shell-hook` scripts for bash, zsh and
fish, and the direnv `.envrc` that `pyve init` writes (and `pyve purge` removes, if untouched).

Both are rendered from `backend.run_env()`, the same variables `pyve run` sets, so the three
ways into an environment cannot disagree.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the fast path renders hooks: no typing, re, shlex or pathlib here
if TYPE_CHECKING:
    from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SAFE = _ALNUM | frozenset("@%+=:,./-")  # what shlex.quote leaves unquoted
ENVRC = ".envrc"
# First line of every .envrc pyve writes: purge removes a file only when it starts with this
# AND still has exactly the text pyve wrote (so a user's edit makes the file theirs).
ENVRC_MARKER = "# pyve: written by `pyve init`; `pyve purge` removes it while it is unchanged."

# No absolute path in here: the project root is found at load time from this file's own
# location (direnv sources it as ./.envrc from its folder; `source ../.envrc` from a
# subfolder works too), so a moved or freshly cloned project keeps working.
ENVRC_TEXT = ENVRC_MARKER + """
# Edit freely: once changed, it is yours and pyve leaves it alone.
_pyve_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
watch_file "$_pyve_root/pyve.toml" "$_pyve_root/environment.yml" "$_pyve_root/conda-lock.yml"
dotenv_if_exists "$_pyve_root/.env"
if [[ -f "$_pyve_root/.venv/pyvenv.cfg" ]] \\
    && ! grep -q '^backend = "micromamba"' "$_pyve_root/pyve.toml" 2>/dev/null; then
  # venv: no pyve process needed on every cd
  export VIRTUAL_ENV="$_pyve_root/.venv"
  PATH_add "$_pyve_root/.venv/bin"
  unset PYTHONHOME
elif has pyve; then
  # conda envs live under .pyve/envs/<hash>/ and carry environment.yml's variables
  eval "$(pyve -q -C "$_pyve_root" shell-hook --shell bash)"
else
  log_error "pyve: no .venv here and pyve is not on PATH; run \\`pyve init\\`"
fi
unset _pyve_root
"""


def default_shell() -> str:
    name = os.path.basename(os.environ.get("SHELL", ""))
    return name if name in SHELLS else "bash"


def is_name(key: str) -> bool:
    """A shell variable name: [A-Za-z_][A-Za-z0-9_]*."""
    return bool(key) and not key[0].isdigit() and all(c in _ALNUM for c in key)


def sh_quote(value: str) -> str:
    """shlex.quote without importing shlex (and so `re`): the fast path renders hooks."""
    if value and all(c in _SAFE for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def fish_quote(value: str) -> str:
    """fish's single quotes: only backslash and the quote itself are special inside them."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_hook(variables: dict[str, str], shell: str) -> str:
    """The script `eval` runs. PATH in `variables` is the prefix to put in front of $PATH
    (backends give it with a trailing separator, as `pyve run` uses it)."""
    lines: list[str] = []
    for key, value in variables.items():
        if not is_name(key):
            continue  # not a shell variable name: never paste it into code that is eval'd
        if key == "PATH":
            entries = [p for p in value.split(os.pathsep) if p]
            if shell == "fish":
                lines.append("set -gx PATH " + " ".join(map(fish_quote, entries)) + " $PATH")
            else:
                joined = sh_quote(os.pathsep.join(entries))
                lines.append(f'export PATH={joined}"${{PATH:+:$PATH}}"')
        elif shell == "fish":
            lines.append(f"set -gx {key} {fish_quote(value)}")
        else:
            lines.append(f"export {key}={sh_quote(value)}")
    # a PYTHONHOME from elsewhere would point the env's interpreter at another stdlib
    lines.append("set -e PYTHONHOME 2>/dev/null; true" if shell == "fish" else "unset PYTHONHOME")
    if shell in ("bash", "zsh"):
        lines.append("hash -r 2>/dev/null || true")  # forget cached locations of `python`
    return "\n".join(lines) + "\n"


def write_envrc(root: Path) -> bool:
    """Write .envrc unless one exists (never overwrite a user's). True if written."""
    from pyve.fsutil import atomic_write_text

    path = root / ENVRC
    if path.exists() or path.is_symlink():
        return False
    atomic_write_text(path, ENVRC_TEXT)
    return True


def envrc_is_ours(root: Path) -> bool:
    """Still exactly what pyve wrote: marker first line and unchanged content."""
    path = root / ENVRC
    if not path.is_file() or path.is_symlink():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text.startswith(ENVRC_MARKER) and text == ENVRC_TEXT
