"""Parse and validate environment.yml (conda's format plus conda-lock's `platforms:`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import xxhash
import yaml

from pyve.backends.conda import safeyaml
from pyve.errors import PyveError
from pyve.redact import excerpt

# Package names as conda allows them (lowercase is the norm, but channels have mixed case).
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# A single version constraint after its operator: starts with a digit (or epoch) or a glob.
_VERSION_TERM_RE = re.compile(r"^(?:\d[A-Za-z0-9_.!+*\-]*|\*)$")
_OPERATOR_RE = re.compile(r"^(?:==|!=|>=|<=|~=|>|<|=)?")
# pip option lines conda passes through to `pip install -r` (run in the env file's folder).
_PIP_OPTION_RE = re.compile(r"^(-r|-c|-e|--[a-z][a-z-]*)(\s|=|$)")
# What conda sets as environment variables (`pyve run` puts them in the environment).
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

KNOWN_KEYS = {"name", "channels", "dependencies", "prefix", "variables", "platforms", "category",
              "pip-repositories", "allow-pypi-requests"}


@dataclass(frozen=True)
class EnvFile:
    path: Path
    name: str | None
    channels: list[str] = field(default_factory=list)
    conda_specs: list[str] = field(default_factory=list)
    pip_specs: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    platforms: list[str] = field(default_factory=list)
    category: str = "main"
    # A `pip:` section was present (even empty): conda-lock then adds its own `pip` spec.
    pip_section: bool = False
    # conda_specs ends with a `pip` we added because of the pip section (not in the file).
    implied_pip: bool = False


def load_envfile(path: Path | str) -> EnvFile:
    """Read and validate an environment.yml; raise PyveError naming file:line on problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PyveError(f"{path.name}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise PyveError(f"{path.name}:{line}: not UTF-8 text", hint=f"save {path.name} as UTF-8"
                        ) from None
    return parse_envfile(text, path)


def parse_envfile(text: str, path: Path | str = "environment.yml") -> EnvFile:
    path = Path(path)
    label = path.name
    data = _load_yaml(text, label)
    if not isinstance(data, dict):
        raise PyveError(f"{label}: expected a mapping with a 'dependencies:' list",
                        hint="see https://docs.conda.io/projects/conda/en/latest/user-guide/"
                             "tasks/manage-environments.html#create-env-file-manually")
    deps = data.get("dependencies")
    if not deps:
        raise PyveError(f"{label}: 'dependencies' is missing or empty",
                        hint="list at least one package, e.g. 'dependencies: [python=3.11]'")
    if not isinstance(deps, list):
        raise PyveError(f"{label}: 'dependencies' must be a list")
    lines = _spec_lines(text)
    conda_specs, pip_specs = _split_dependencies(deps, label, lines)
    # `pip:` with no list (None) is ignored by conda-lock, so it implies nothing.
    pip_section = any(isinstance(d, dict) and d.get("pip") is not None for d in deps)
    implied_pip = pip_section and not any(conda_spec_name(s) == "pip" for s in conda_specs)
    if implied_pip:
        conda_specs.append("pip")  # conda runs the pip section with the env's own pip
    channels = [_channel(c, label) for c in _list(data, "channels", label)]
    channels = [c for c in channels if c != "nodefaults"]
    platforms = check_platforms(_list(data, "platforms", label), f"{label}: platforms")
    name = data.get("name")
    return EnvFile(path=path, name=str(name) if name is not None else None, channels=channels,
                   conda_specs=conda_specs, pip_specs=pip_specs,
                   variables=_variables(data.get("variables"), label),
                   platforms=platforms, category=str(data.get("category") or "main"),
                   pip_section=pip_section, implied_pip=implied_pip)


def check_platforms(platforms: list, where: str) -> list[str]:
    """Conda platform names (subdirs such as linux-64), or a PyveError naming the bad one."""
    from rattler import Subdir  # py-rattler 0.28: `Platform` is a deprecated alias of it

    for platform in platforms:
        try:
            ok = isinstance(platform, str) and platform != "noarch" and bool(Subdir(platform))
        except Exception:  # noqa: BLE001 - rattler raises its own ParseSubdirError
            ok = False
        if not ok:
            raise PyveError(f"{where}: {excerpt(repr(platform))} is not a conda platform",
                            hint="use platform names like linux-64, linux-aarch64, osx-arm64, "
                                 "osx-64, win-64")
    return list(platforms)


def _channel(channel: object, label: str) -> str:
    """A channel name, URL or path, as rattler reads it (`foo[x]` is a platform selector)."""
    from rattler import Channel

    problem = None
    if not isinstance(channel, str | int | float) or not str(channel).strip():
        problem = "a channel is a name, URL or path"
    else:
        try:
            Channel(str(channel))
        except Exception as exc:  # noqa: BLE001 - rattler's InvalidChannelError
            problem = str(exc).splitlines()[0] if str(exc).strip() else "not a channel"
    if problem:
        raise PyveError(f"{label}: invalid channel {excerpt(repr(channel))}: {problem}",
                        hint="use a channel name (conda-forge), a URL or a local path")
    return str(channel)


def _variables(variables: object, label: str) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise PyveError(f"{label}: 'variables' must be a mapping of NAME: value")
    for key, value in variables.items():
        if not isinstance(key, str) or not _VARIABLE_RE.match(key):
            raise PyveError(f"{label}: variables: {excerpt(repr(key))} is not a variable name",
                            hint="use names like MY_SETTING (letters, digits, _)")
        if not isinstance(value, str | int | float | bool) or "\x00" in str(value):
            raise PyveError(f"{label}: variables: {key} must be a text value",
                            hint=f"quote it: {key}: \"...\"")
    return {k: str(v) for k, v in variables.items()}


def _load_yaml(text: str, label: str) -> object:
    try:
        return safeyaml.load(text)
    except safeyaml.DocumentTooLarge as exc:
        raise PyveError(f"{label}: refused: {exc}", hint=safeyaml.HINT) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark is not None else label
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PyveError(f"{where}: invalid YAML: {problem}",
                        hint="check the indentation and quote specs containing ':' or '#'"
                        ) from exc


def _list(data: dict, key: str, label: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise PyveError(f"{label}: '{key}' must be a list")
    return value


def _spec_lines(text: str) -> dict[str, int]:
    """Map each stripped list item to its first line number, for error messages."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if item.startswith("- "):
            item = item[2:].split(" #", 1)[0].strip().strip("'\"")
            found.setdefault(item, number)
    return found


def _split_dependencies(deps: list, label: str, lines: dict[str, int]
                        ) -> tuple[list[str], list[str]]:
    conda_specs: list[str] = []
    pip_specs: list[str] = []
    for dep in deps:
        if isinstance(dep, dict):
            for key, value in dep.items():
                value = [] if value is None else value
                if key != "pip" or not isinstance(value, list):
                    raise PyveError(f"{label}: unsupported dependency section '{key}'",
                                    hint="only a 'pip:' list may appear among dependencies")
                for line in value:
                    line = str(line).strip()
                    _check_pip_line(line, label, lines)
                    pip_specs.append(line)
        elif dep is None:
            raise PyveError(f"{label}: empty dependency entry")
        else:
            spec = str(dep).strip()
            _check_conda_spec(spec, label, lines)
            conda_specs.append(spec)
    return conda_specs, pip_specs


def _where(label: str, lines: dict[str, int], item: str) -> str:
    return f"{label}:{lines[item]}" if item in lines else label


def _check_conda_spec(spec: str, label: str, lines: dict[str, int]) -> None:
    reason = matchspec_problem(spec)
    if reason:
        raise PyveError(f"{_where(label, lines, spec)}: invalid conda spec '{excerpt(spec)}': "
                        f"{reason}",
                        hint="use forms like 'numpy', 'numpy>=1.24', 'python=3.11', "
                             "'conda-forge::numpy'")


def _check_pip_line(line: str, label: str, lines: dict[str, int]) -> None:
    if not line:
        raise PyveError(f"{label}: empty line in the pip section")
    if _PIP_OPTION_RE.match(line):
        return  # pip options (-r, -e, --index-url ...) are pip's business, run in place
    # here, not at the top: a conda env file without a pip: section never needs packaging
    # (~35 ms of imports on a build)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(line)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise PyveError(f"{_where(label, lines, line)}: invalid pip requirement "
                        f"'{excerpt(line)}': {first}",
                        hint="use PEP 508 forms like 'requests>=2', 'pkg[extra]==1.0'") from exc


def matchspec_problem(spec: str) -> str | None:
    """Why `spec` is not a conda MatchSpec we accept, or None when it is fine.

    rattler's lenient parser takes `nump y` (version 'y') and its strict one rejects
    `pkg=1.2=build`, so: rattler parses it leniently, then we demand a plain package name and
    version terms that look like versions.
    """
    from rattler import MatchSpec
    from rattler.exceptions import InvalidMatchSpecError

    if not spec:
        return "empty spec"
    try:
        parsed = MatchSpec(spec)
    except InvalidMatchSpecError as exc:
        return str(exc).splitlines()[0]
    if parsed.name is None or not _NAME_RE.match(_bare_name(spec)):
        return "not a package name"
    if parsed.version is not None:
        for term in re.split(r"[,|]", str(parsed.version)):
            term = _OPERATOR_RE.sub("", term.strip(), count=1)
            if not _VERSION_TERM_RE.match(term):
                return f"bad version '{term}'"
    return None


def _bare_name(spec: str) -> str:
    """The package name part: without channel prefix, brackets, version and build."""
    spec = re.sub(r"\[.*\]", "", spec.split("#", 1)[0]).strip()
    spec = spec.rsplit("::", 1)[-1]
    return re.split(r"[ =<>!~]", spec, maxsplit=1)[0]


def conda_spec_name(spec: str) -> str:
    return _bare_name(spec).lower()


def env_hash(channels: list[str], specs: list[str], platform: str) -> str:
    """Content address of an env: `.pyve/envs/<hash>/`. Order of specs does not matter."""
    canonical = json.dumps({"channels": list(channels), "specs": sorted(specs),
                            "platform": platform}, sort_keys=True, separators=(",", ":"))
    return xxhash.xxh3_128_hexdigest(canonical.encode("utf-8"))[:16]
