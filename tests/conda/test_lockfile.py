"""conda-lock.yml: written from real solves, accepted by conda-lock's parser, freshness."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pyve.backends.conda.envfile import load_envfile
from pyve.backends.conda.lockfile import (
    DEFAULT_PLATFORMS,
    check_fresh,
    lock_packages,
    lock_platforms,
    pip_requirements,
    read_lock,
    write_lock,
)
from pyve.engines import rattler as engine
from pyve.errors import PyveError

PLATFORMS = ["linux-64", "osx-64", "osx-arm64", "win-64"]
PIP = [{"name": "alpha", "version": "1.0", "url": "https://example.com/alpha-1.0-py3-none-any.whl",
        "sha256": "1" * 64, "dependencies": []}]


@pytest.fixture
def project(tmp_path: Path, local_channel: Path) -> Path:
    (tmp_path / "environment.yml").write_text(
        f"name: demo\nchannels:\n  - {local_channel}\n  - nodefaults\n"
        "dependencies:\n  - bar\n  - baz\n  - pip:\n    - alpha\n")
    return tmp_path


def solve_all(envfile, platforms):
    # baz exists on linux-64 only: lock it per platform where it exists.
    out = {}
    for platform in platforms:
        specs = [s for s in envfile.conda_specs if s != "baz" or platform == "linux-64"]
        specs = [s for s in specs if s != "pip"]
        out[platform] = engine.solve(envfile.channels, specs, platform)
    return out


def test_written_lock_is_valid_for_conda_lock(project: Path) -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    envfile = load_envfile(project / "environment.yml")
    lock_path = write_lock(project / "conda-lock.yml", envfile, solve_all(envfile, PLATFORMS),
                           {p: PIP for p in PLATFORMS})
    parsed = parse_conda_lock_file(lock_path)
    assert sorted(parsed.metadata.platforms) == sorted(PLATFORMS)
    assert parsed.metadata.sources == ["environment.yml"]
    linux = {(p.name, p.manager) for p in parsed.package if p.platform == "linux-64"}
    assert linux == {("bar", "conda"), ("foo-py", "conda"), ("libfoo", "conda"),
                     ("baz", "conda"), ("libfoo", "conda"), ("alpha", "pip")}
    baz = next(p for p in parsed.package if p.name == "baz")
    assert baz.version == "1.10" and baz.dependencies == {"libfoo": "1.*"}
    assert not list(project.glob(".conda-lock.yml.*"))  # no temp file left behind


def test_content_hash_equals_conda_lock(project: Path) -> None:
    envfile = load_envfile(project / "environment.yml")
    lock_path = write_lock(project / "conda-lock.yml", envfile, solve_all(envfile, PLATFORMS))
    from conda_lock.content_hash import compute_content_hashes
    from conda_lock.src_parser import make_lock_spec
    from conda_lock.virtual_package import default_virtual_package_repodata

    mapping = project / "mapping.json"  # a local PyPI->conda name map: no network
    mapping.write_text("{}")
    # the spec as conda-lock's CLI builds it (duplicate manager+name entries aggregated)
    spec = make_lock_spec(src_files=[project / "environment.yml"], platform_overrides=PLATFORMS,
                          mapping_url=str(mapping))
    expected = compute_content_hashes(spec, default_virtual_package_repodata())
    written = read_lock(lock_path)["metadata"]["content_hash"]
    assert written == {p: expected[p] for p in PLATFORMS}


def test_packages_sorted_and_strings(project: Path) -> None:
    envfile = load_envfile(project / "environment.yml")
    lock_path = write_lock(project / "conda-lock.yml", envfile, solve_all(envfile, PLATFORMS),
                           {"linux-64": PIP})
    packages = yaml.safe_load(lock_path.read_text())["package"]
    keys = [(p["manager"], p["name"], p["platform"]) for p in packages]
    assert keys == sorted(keys)
    assert all(isinstance(p["version"], str) for p in packages)
    assert all(isinstance(h, str) for p in packages for h in p["hash"].values())
    foo = next(p for p in packages if p["name"] == "foo-py")
    assert foo["dependencies"] == {"libfoo": ">=1"} and foo["optional"] is False
    # On osx-64 (no baz pinning libfoo 1.*) the newest bar wins.
    bar = next(p for p in packages if p["name"] == "bar" and p["platform"] == "osx-64")
    assert bar["dependencies"] == {"foo-py": "", "libfoo": ">=2"}


def test_check_fresh(project: Path, local_channel: Path) -> None:
    env_path = project / "environment.yml"
    envfile = load_envfile(env_path)
    lock_path = project / "conda-lock.yml"
    assert set(check_fresh(lock_path, envfile, ["linux-64"]).values()) == {
        "conda-lock.yml does not exist"}
    write_lock(lock_path, envfile, solve_all(envfile, ["linux-64", "osx-64"]))
    assert check_fresh(lock_path, envfile, ["linux-64", "osx-64"]) == {
        "linux-64": None, "osx-64": None}
    assert check_fresh(lock_path, envfile, ["win-64"]) == {"win-64": "platform not in the lock"}
    env_path.write_text(env_path.read_text().replace("  - bar\n", "  - bar >=0.3\n"))
    changed = check_fresh(lock_path, load_envfile(env_path), ["linux-64"])
    assert changed == {"linux-64": "environment.yml changed since it was locked"}


def test_install_from_lock(project: Path, tmp_path: Path, cache_dir: Path) -> None:
    envfile = load_envfile(project / "environment.yml")
    lock_path = write_lock(project / "conda-lock.yml", envfile,
                           solve_all(envfile, ["linux-64"]), {"linux-64": PIP})
    lock = read_lock(lock_path)
    records = engine.records_from_lock(lock_packages(lock, "linux-64"), "linux-64")
    assert {r.name.normalized for r in records} == {"bar", "baz", "foo-py", "libfoo"}
    engine.install(records, tmp_path / "env", cache_dir)
    assert (tmp_path / "env/share/baz/1.10.txt").exists()
    assert pip_requirements(lock, "linux-64") == [
        f"alpha @ https://example.com/alpha-1.0-py3-none-any.whl#sha256={'1' * 64}"]


def test_default_platforms(project: Path) -> None:
    envfile = load_envfile(project / "environment.yml")
    assert lock_platforms(envfile) == DEFAULT_PLATFORMS == [
        "linux-64", "osx-arm64", "osx-64", "win-64"]
    assert lock_platforms(envfile, ["linux-64"]) == ["linux-64"]


def test_read_lock_errors(tmp_path: Path) -> None:
    bad = tmp_path / "conda-lock.yml"
    bad.write_text("version: 2\npackage: []\n")
    with pytest.raises(PyveError, match="not a conda-lock version 1 file"):
        read_lock(bad)
    bad.write_text("version: 1\n  package: [\n")
    with pytest.raises(PyveError, match=r"conda-lock.yml:\d+: invalid YAML"):
        read_lock(bad)


def test_written_text_is_pure_python_safe_dumps(project: Path) -> None:
    """The lock is written with libyaml's dumper, for speed: byte for byte what
    yaml.safe_dump writes, tricky scalars included (1.10, all-digit hashes, yes, ~)."""
    envfile = load_envfile(project / "environment.yml")
    tricky = [{**PIP[0], "name": name, "version": version}
              for name, version in (("a", "1.10"), ("b", "0123"), ("c", "1e3"), ("d", "yes"),
                                    ("e", "~"), ("f", "2026-01-01"), ("g", "1_000"))]
    lock_path = write_lock(project / "conda-lock.yml", envfile, solve_all(envfile, PLATFORMS),
                           {"linux-64": tricky})
    text = lock_path.read_text()
    body = text[text.index("\nversion:") + 1:]
    assert body == yaml.safe_dump(yaml.safe_load(text), sort_keys=False,
                                  default_flow_style=False)
    versions = {p["name"]: p["version"] for p in yaml.safe_load(text)["package"]}
    assert versions["a"] == "1.10" and versions["e"] == "~"


def test_a_lock_read_twice_is_parsed_once_and_an_edit_is_seen(project: Path) -> None:
    """read_lock keeps one parse per text (a build reads the lock in three stages): a
    same-size edit is read afresh, and what a caller changes never reaches the next read."""
    envfile = load_envfile(project / "environment.yml")
    lock_path = write_lock(project / "conda-lock.yml", envfile,
                           solve_all(envfile, ["linux-64"]), {"linux-64": PIP})
    first = read_lock(lock_path)
    first["package"].clear()  # a caller's change stays its own
    again = read_lock(lock_path)
    assert again["package"] and again == read_lock(lock_path)
    text = lock_path.read_text()
    version = again["package"][0]["version"]
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if i > lines.index("package:\n")
              and line.strip().startswith("version:") and version in line)
    lines[at] = lines[at].replace(version, version[::-1])
    edited = "".join(lines)
    assert edited != text and len(edited) == len(text)
    lock_path.write_text(edited)
    assert read_lock(lock_path)["package"][0]["version"] == version[::-1]
