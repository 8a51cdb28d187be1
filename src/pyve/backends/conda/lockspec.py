"""conda-lock's `content_hash`, recomputed without importing conda-lock.

conda-lock hashes, per platform, the JSON of {channels, specs, virtual_package_hash} where each
spec is the pydantic dump of its parsed dependency (conda's own MatchSpec rules for conda
specs). Matching it exactly lets `conda-lock lock --check-input-hash` skip a lock pyve wrote.
Covered: plain conda specs (all MatchSpec spellings in the notes), channel prefixes, bracket
keys, PEP 508 pip lines (name, extras, version, markers, https URLs). Not covered: `# [linux]`
selectors, git/path pip requirements (their hash depends on conda-lock internals).
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urldefrag

from pyve.backends.conda.envfile import EnvFile

# conda-lock's default-virtual-packages.yaml (name -> "version[ build_string]").
_DEFAULT_VIRTUAL = {
    "linux-64": {"__unix": "0", "__linux": "5.10", "__archspec": "1 x86_64",
                 "__glibc": "2.28", "__cuda": "11.4"},
    "linux-aarch64": {"__unix": "0", "__linux": "5.10", "__archspec": "1 aarch64",
                      "__glibc": "2.28", "__cuda": "11.4"},
    "linux-ppc64le": {"__unix": "0", "__linux": "5.10", "__archspec": "1 ppc64le",
                      "__glibc": "2.28", "__cuda": "11.4"},
    "osx-64": {"__unix": "0", "__archspec": "1 x86_64", "__osx": "11.0"},
    "osx-arm64": {"__unix": "0", "__archspec": "1 arm64", "__osx": "11.0"},
    "win-64": {"__win": "0", "__archspec": "1 x86_64", "__cuda": "11.4"},
}
_VP_TIMESTAMP = 1577854800000
_MARKER_ENV = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "osx": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "win": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}


def default_virtual_packages(platform: str) -> list[tuple[str, str, str]]:
    """(name, version, build_string) that conda-lock assumes for `platform` by default."""
    result = []
    for name, value in _DEFAULT_VIRTUAL.get(platform, {}).items():
        version, _, build = value.partition(" ")
        result.append((name, version, build))
    return result


def _virtual_package_block(platform: str) -> dict:
    if platform not in _DEFAULT_VIRTUAL:
        return {"noarch": {"info": {"subdir": "noarch"}, "packages": {}}, platform: {}}
    entries = list(default_virtual_packages(platform))
    if platform == "osx-64":
        # conda-lock keeps a duplicate __osx 10.15 here for hash compatibility.
        entries.append(("__osx", "10.15", ""))
    packages = {}
    for name, version, build_string in entries:
        # conda-lock re-adds a "spurious" _0 build number so its hashes match v2's.
        build = f"{build_string}_0" if build_string else "0"
        packages[f"{name}-{version}-{build}.tar.bz2"] = {
            "name": name, "version": version, "build_string": build_string, "build_number": 0,
            "noarch": "", "depends": [], "timestamp": _VP_TIMESTAMP,
            "package_type": "virtual_system", "build": build, "subdir": platform,
        }
    return {"noarch": {"info": {"subdir": "noarch"}, "packages": {}},
            platform: {"info": {"subdir": platform}, "packages": packages}}


def _channel_json(channel: str) -> str:
    # pydantic's model_dump_json of conda-lock's Channel (credentials are not rewritten here).
    return json.dumps({"url": channel, "used_env_vars": []}, separators=(",", ":"),
                      ensure_ascii=False)


def _versioned(name: str, manager: str, category: str, version: str, *, build: str | None = None,
               conda_channel: str | None = None, extras: list[str] | None = None,
               markers: str | None = None, hash_: str | None = None) -> dict:
    dep = {"name": name, "manager": manager, "category": category,
           "extras": sorted(extras or []), "version": version, "build": build,
           "conda_channel": conda_channel, "hash": hash_}
    if markers is not None:  # conda-lock drops a null `markers` for v2 compatibility
        dep["markers"] = markers
    return dep


def _channel_canonical_name(channel: str) -> str:
    channel = channel.rstrip("/")
    for prefix in ("https://conda.anaconda.org/", "http://conda.anaconda.org/"):
        if channel.startswith(prefix):
            return channel[len(prefix):]
    if "://" in channel or channel.startswith(("/", ".", "~")):
        return channel.rsplit("/", 1)[-1]
    return channel


def _version_plus_build(text: str) -> tuple[str, str | None]:
    # Verbatim from conda's MatchSpec parser (_parse_version_plus_build).
    parts = re.search(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$", text)
    if not parts:
        return text.replace(" ", ""), None
    version, build = parts.groups()
    return version.replace(" ", ""), build.strip() if build else None


def _normalize_version(version: str) -> str:
    """conda's VersionSpec str(): a trailing glob `1.2*` is written `1.2.*`."""
    terms = re.split(r"([,|])", version)
    out = []
    for term in terms:
        if term.endswith("*") and not term.endswith(".*") and len(term) > 1 \
                and not term.startswith(("<", ">", "!", "~")):
            term = term[:-1] + ".*"
        out.append(term)
    return "".join(out)


def conda_dependency(spec: str, category: str = "main") -> dict:
    """The dump of conda-lock's VersionedDependency for one conda spec string."""
    spec = spec.split("#", 1)[0].strip()
    brackets: dict[str, str] = {}
    found = re.match(r".*(?:(\[.*\]))", spec)
    if found:
        spec = spec.replace(found.group(1), "")
        for key, _, value, _ in re.findall(r'([a-zA-Z0-9_-]+?)=(["\']?)([^\'"]*?)(\2)(?:[, ]|$)',
                                           found.group(1)[1:-1]):
            brackets[key] = value
    channel = None
    if "::" in spec:
        channel_str, spec = spec.rsplit("::", 1)
        channel = _channel_canonical_name(channel_str)
    if "channel" in brackets:
        channel = _channel_canonical_name(brackets["channel"])
    name_match = re.match(r"([^ =<>!~]+)?([><!=~ ].+)?", spec)
    name, rest = name_match.groups() if name_match else (spec, None)
    version, build = None, None
    rest = rest and rest.strip()
    if rest:
        version, build = _version_plus_build(rest)
        if version not in ("==", "=") and version.startswith("="):
            tail = version[1:]
            if version.startswith("==") and build is None:
                version = version[2:]
            elif not any(c in tail for c in "=,|"):
                version = tail + "*" if build is None and not tail.endswith("*") else tail
    version = brackets.get("version", version)
    build = brackets.get("build", build)
    if version is not None:
        version = _normalize_version(version)
    return _versioned((name or "*").lower(), "conda", category, version or "", build=build,
                      conda_channel=channel)


def pip_dependency(line: str, category: str = "main") -> dict | None:
    """The dump of conda-lock's dependency for one pip line; None for lines it skips."""
    if line.startswith("-"):
        return None  # `-e .`, `-r file`, `--index-url`: not in conda-lock's spec
    markers = None
    if ";" in line:
        line, markers = (part.strip() for part in line.rsplit(";", 1))
    # imported here: only pip lines need packaging (a conda-only lock does not import it)
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    req = Requirement(line)
    name = canonicalize_name(req.name)
    if req.url and req.url.startswith(("https://", "ssh://")) and not req.url.startswith("git+"):
        url, fragment = urldefrag(req.url)
        dep = {"name": name, "manager": "pip", "category": category,
               "extras": sorted(req.extras), "url": url, "hashes": [fragment.replace("=", ":")]}
        if markers is not None:
            dep["markers"] = markers
        return dep
    version = ",".join(sorted(str(req.specifier).replace("===", "==").split(",")))
    return _versioned(name, "pip", category, version or "*", extras=sorted(req.extras),
                      markers=markers)


def marker_applies(markers: str | None, platform: str) -> bool:
    """conda-lock's evaluate_marker: only sys_platform/platform_system/os_name are known;
    markers naming anything else count as true (conda-lock warns and keeps the dependency)."""
    if markers is None:
        return True
    from packaging.markers import Marker

    env = _MARKER_ENV.get(platform.split("-", 1)[0])
    marker = Marker(markers)
    if env is None or not _marker_names(marker._markers) <= set(env):
        return True
    return marker.evaluate(env)


def _marker_names(tree: object) -> set[str]:
    # packaging keeps the parsed marker as nested lists of (Variable|Value, Op, ...) tuples.
    if isinstance(tree, (list, tuple)):
        return set().union(*(_marker_names(item) for item in tree)) if tree else set()
    return {str(getattr(tree, "value", ""))} if type(tree).__name__ == "Variable" else set()


def lock_dependencies(envfile: EnvFile, platform: str = "linux-64") -> list[dict]:
    """Every dependency as the conda-lock CLI serializes it for `platform`, in hashing order.

    The CLI (`make_lock_spec` -> `aggregate_lock_specs`) keeps one dependency per
    (manager, name), the last one in file order: so a `pip>=23` in `dependencies:` gives way
    to the `pip` that a `pip:` section appends after it, and `numpy` then `numpy>=1` hash as
    `numpy>=1`. Its `parse_environment_file` alone keeps both; the CLI's hash is the one that
    decides whether `conda-lock lock --check-input-hash` re-solves.
    """
    deps = []
    conda_specs = envfile.conda_specs[:-1] if envfile.implied_pip else envfile.conda_specs
    deps += [conda_dependency(s, envfile.category) for s in conda_specs]
    pip_deps = (pip_dependency(p, envfile.category) for p in envfile.pip_specs)
    deps += [d for d in pip_deps if d and marker_applies(d.get("markers"), platform)]
    if envfile.pip_section:
        deps.append(_versioned("pip", "conda", "main", "*"))
    last = {(d["manager"], d["name"]): d for d in deps}
    return sorted(last.values(), key=lambda d: (d["manager"], d["name"]))


def content_hash(envfile: EnvFile, platform: str) -> str:
    """conda-lock's content_hash of `envfile` for `platform` (default virtual packages)."""
    content = {
        "channels": [_channel_json(c) for c in envfile.channels],
        "specs": lock_dependencies(envfile, platform),
        "virtual_package_hash": _virtual_package_block(platform),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
