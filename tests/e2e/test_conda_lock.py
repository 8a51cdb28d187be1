"""conda-lock.yml through the real CLI: platforms, per-platform solves, pip entries, the
content_hash conda-lock computes, `lock --check`, installing from the lock, --frozen."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pyve.backends.conda.backend import MARKER
from pyve.backends.conda.lockfile import write_document
from tests.conftest import PyveRunner, linux_only
from tests.support import conda_fixtures
from tests.support.conda_helpers import (
    assert_one_error,
    assert_valid_lock,
    env_dirs,
    installed_urls,
    lock_urls,
    only_env,
    python_env,
    read_lock,
    snapshot,
    write_envfile,
)

pytestmark = linux_only
DEFAULTS = ["linux-64", "osx-arm64", "osx-64", "win-64"]


def conda_lock_hashes(project: Path, platforms: list[str]) -> dict[str, str]:
    """The oracle: the lock spec as conda-lock's CLI builds it (`make_lock_spec`, which keeps
    one dependency per manager and name) and its content hash."""
    from conda_lock.content_hash import compute_content_hashes
    from conda_lock.src_parser import make_lock_spec
    from conda_lock.virtual_package import default_virtual_package_repodata

    mapping = project.parent / "mapping.json"  # a local name map: conda-lock stays offline
    mapping.write_text("{}")
    spec = make_lock_spec(src_files=[project / "environment.yml"], platform_overrides=platforms,
                          mapping_url=str(mapping))
    return compute_content_hashes(spec, default_virtual_package_repodata())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_platforms_each_solved_with_pip_entries(
        project: Path, pyve: PyveRunner, multi_channel: Path, wheelhouse: Path) -> None:
    write_envfile(project, multi_channel, ["python", "bar", "pip"], pip=["beta"])
    pyve("init", check=True)
    assert_valid_lock(project / "conda-lock.yml")
    lock = read_lock(project)
    assert lock["metadata"]["platforms"] == DEFAULTS
    for platform in DEFAULTS:
        urls = lock_urls(lock, platform)
        # libfoo (and python) from the platform's own subdir, noarch shared
        assert f"{multi_channel.as_uri()}/{platform}/libfoo-2.0-h0_0.tar.bz2" in urls
        assert any(f"/{platform}/python-" in u for u in urls), urls
        assert any("/noarch/bar-0.4-0.tar.bz2" in u for u in urls)
        pips = {p["name"]: p for p in lock["package"]
                if p["platform"] == platform and p["manager"] == "pip"}
        assert set(pips) == {"alpha", "beta"}
        for name, entry in pips.items():
            wheel = next(wheelhouse.glob(f"{name}-{entry['version']}-*.whl"))
            assert entry["url"].split("#")[0].endswith(wheel.name)
            assert entry["hash"]["sha256"] == sha256(wheel)
        assert pips["alpha"]["version"] == "2.0"
    assert lock["metadata"]["content_hash"] == conda_lock_hashes(project, DEFAULTS)


def test_platforms_from_envfile_and_flag(project: Path, pyve: PyveRunner,
                                         local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar=0.3"], platforms=["linux-64", "osx-arm64"])
    pyve("init", check=True)
    lock = read_lock(project)
    assert lock["metadata"]["platforms"] == ["linux-64", "osx-arm64"]
    assert {p["platform"] for p in lock["package"]} == {"linux-64", "osx-arm64"}
    assert lock["metadata"]["content_hash"] == conda_lock_hashes(
        project, ["linux-64", "osx-arm64"])
    assert pyve("lock", "--check", check=True).returncode == 0

    result = pyve("lock", "--platform", "win-64", "--platform", "osx-64", check=True)
    assert result.returncode == 0
    assert_valid_lock(project / "conda-lock.yml")
    lock = read_lock(project)
    assert lock["metadata"]["platforms"] == ["win-64", "osx-64"]
    assert lock_urls(lock, "win-64") >= {
        f"{local_channel.as_uri()}/win-64/libfoo-2.0-h0_0.tar.bz2"}
    assert lock["metadata"]["content_hash"] == conda_lock_hashes(project, ["win-64", "osx-64"])


def test_lock_without_platforms_uses_the_four_defaults(project: Path, pyve: PyveRunner,
                                                       local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"])
    pyve("init", check=True)
    (project / "conda-lock.yml").unlink()
    result = pyve("lock", check=True)
    assert "Lock written" in result.output
    assert_valid_lock(project / "conda-lock.yml")
    lock = read_lock(project)
    assert lock["metadata"]["platforms"] == DEFAULTS
    for platform in DEFAULTS:
        assert f"{local_channel.as_uri()}/{platform}/libfoo-2.0-h0_0.tar.bz2" in lock_urls(
            lock, platform)
    assert lock["metadata"]["content_hash"] == conda_lock_hashes(project, DEFAULTS)


def test_lock_check_fresh_then_stale_changes_nothing(project: Path, pyve: PyveRunner,
                                                     local_channel: Path) -> None:
    write_envfile(project, local_channel, ["bar"], platforms=["linux-64", "win-64"])
    pyve("init", check=True)
    result = pyve("lock", "--check")
    assert result.returncode == 0 and "fresh" in result.output
    write_envfile(project, local_channel, ["bar=0.3"], platforms=["linux-64", "win-64"])
    before = snapshot(project)
    lock_bytes = (project / "conda-lock.yml").read_bytes()
    result = pyve("lock", "--check")
    assert result.returncode != 0
    assert "Traceback" not in result.output
    for platform in ("linux-64", "win-64"):
        assert any(platform in ln and "environment.yml changed" in ln
                   for ln in result.output.splitlines()), result.output
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes
    assert snapshot(project) == before
    data = json.loads(pyve("lock", "--check", "--json").stdout)
    assert data["fresh"] is False
    assert {p["platform"] for p in data["platforms"] if not p["fresh"]} == {"linux-64", "win-64"}
    assert snapshot(project) == before


def _hand_pick_libfoo_1(project: Path, channel: Path) -> None:
    """Edit the lock to hold libfoo 1.0 for linux-64: valid, but never what a solve picks."""
    lock = read_lock(project)
    repodata = json.loads((channel / "linux-64" / "repodata.json").read_text())
    record = repodata["packages"]["libfoo-1.0-h0_0.tar.bz2"]
    for entry in lock["package"]:
        if entry["name"] == "libfoo" and entry["platform"] == "linux-64":
            entry["version"] = "1.0"
            entry["url"] = f"{channel.as_uri()}/linux-64/libfoo-1.0-h0_0.tar.bz2"
            entry["hash"] = {"md5": record["md5"], "sha256": record["sha256"]}
    write_document(project / "conda-lock.yml", lock)


def clone(project: Path, to: Path) -> Path:
    to.mkdir()
    for name in ("environment.yml", "conda-lock.yml", "pyve.toml"):
        shutil.copy2(project / name, to / name)
    return to


def test_fresh_clone_installs_from_lock(project: Path, pyve: PyveRunner, local_channel: Path,
                                        tmp_path: Path) -> None:
    write_envfile(project, local_channel, ["bar=0.3"], platforms=["linux-64"])
    pyve("init", check=True)
    _hand_pick_libfoo_1(project, local_channel)
    assert_valid_lock(project / "conda-lock.yml")
    other = clone(project, tmp_path / "clone")
    lock_bytes = (other / "conda-lock.yml").read_bytes()
    result = pyve("build", cwd=other, check=True)
    assert "solving" not in result.output
    env = only_env(other)
    assert installed_urls(env) == lock_urls(read_lock(other), "linux-64")
    assert (env / "share" / "libfoo" / "1.0.txt").is_file()
    assert (other / "conda-lock.yml").read_bytes() == lock_bytes
    assert "Nothing to do" in pyve("build", cwd=other, check=True).stdout


def test_tampered_package_is_refused(project: Path, pyve: PyveRunner, local_channel: Path,
                                     tmp_path: Path) -> None:
    channel = conda_fixtures.copy_channel(local_channel, tmp_path / "chan")
    write_envfile(project, channel, ["bar=0.3"], platforms=["linux-64"])
    pyve("init", check=True)
    other = clone(project, tmp_path / "clone")
    conda_fixtures.tamper(channel, "linux-64", "libfoo-2.0-h0_0.tar.bz2")
    before = snapshot(other)
    result = pyve("build", cwd=other)
    assert_one_error(result, "libfoo-2.0-h0_0.tar.bz2")
    after = snapshot(other)
    for name in ("conda-lock.yml", "pyve.toml"):
        assert after[name] == before[name]
    assert env_dirs(other) == []  # nothing installed, no partial prefix
    # the project's own env is left alone too: a rebuild of it is refused the same way
    env = only_env(project)
    shutil.rmtree(env)
    lock_bytes = (project / "conda-lock.yml").read_bytes()
    result = pyve("build")
    assert_one_error(result, "libfoo-2.0-h0_0.tar.bz2")
    assert not (env / MARKER).exists()
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes


def test_frozen_with_stale_lock_fails_clearly(project: Path, pyve: PyveRunner,
                                              local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    env = only_env(project)
    lock_bytes = (project / "conda-lock.yml").read_bytes()
    # a conda change
    python_env(project, local_channel, deps=("bar=0.3",))
    result = pyve("build", "--frozen")
    assert_one_error(result, "conda-lock.yml", "stale")
    assert "pyve lock" in result.stderr
    assert env_dirs(project) == [env]
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes
    # a pip-only change makes the lock stale too
    python_env(project, local_channel, pip=["beta", "gamma"])
    result = pyve("build", "--frozen")
    assert_one_error(result, "conda-lock.yml", "stale")
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes
    site = next((env / "lib").glob("python3*/site-packages"))
    assert not (site / "gamma").exists()


def test_frozen_with_fresh_lock_installs_it(project: Path, pyve: PyveRunner,
                                            local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", check=True)
    lock_bytes = (project / "conda-lock.yml").read_bytes()
    shutil.rmtree(project / ".pyve")
    result = pyve("build", "--frozen", check=True)
    assert "solving" not in result.output
    env = only_env(project)
    assert installed_urls(env) == lock_urls(read_lock(project), "linux-64")
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes
    site = next((env / "lib").glob("python3*/site-packages"))
    assert (site / "beta").is_dir() and (site / "alpha").is_dir()  # pip part from the lock


def test_frozen_build_then_a_normal_build_changes_nothing(project: Path, pyve: PyveRunner,
                                                          local_channel: Path) -> None:
    """A mode is not an input: after `build --frozen`, `build` finds every stage up to
    date and leaves the lock alone."""
    python_env(project, local_channel)
    pyve("init", check=True)
    shutil.rmtree(project / ".pyve")
    pyve("build", "--frozen", check=True)
    lock_bytes = (project / "conda-lock.yml").read_bytes()
    again = pyve("build", check=True)
    assert "Nothing to do" in again.stdout, again.stdout
    assert (project / "conda-lock.yml").read_bytes() == lock_bytes


@pytest.mark.parametrize("sha256", [None, 1234567890, "abc"])
def test_frozen_refuses_an_entry_without_a_valid_sha256(project: Path, pyve: PyveRunner,
                                                        local_channel: Path,
                                                        sha256: object) -> None:
    """No sha256, or one YAML reads as a number: never installed unchecked."""
    import yaml

    python_env(project, local_channel)
    pyve("init", check=True)
    lock = project / "conda-lock.yml"
    data = yaml.safe_load(lock.read_text())
    entry = next(p for p in data["package"] if p["platform"] == "linux-64")
    if sha256 is None:
        del entry["hash"]["sha256"]
    else:
        entry["hash"]["sha256"] = sha256
    lock.write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.rmtree(project / ".pyve")
    result = pyve("build", "--frozen")
    assert_one_error(result, "conda-lock.yml", entry["name"], "has no valid sha256")
    assert not (project / ".pyve" / "envs").exists() or not env_dirs(project)


def test_a_lock_only_project_gets_the_locks_pip_packages(project: Path, pyve: PyveRunner,
                                                         local_channel: Path,
                                                         tmp_path: Path) -> None:
    """conda-lock.yml alone (the Guide: it means micromamba) is the definition: its conda
    and pip packages are installed as locked, nothing resolved, the lock never rewritten,
    and no line speaks of an environment.yml the project does not have."""
    python_env(project, local_channel)  # python, bar, pip + pip: beta (needs alpha)
    pyve("init", "--yes", check=True)
    other = tmp_path / "lock-only"
    other.mkdir()
    shutil.copy2(project / "conda-lock.yml", other / "conda-lock.yml")
    lock_bytes = (other / "conda-lock.yml").read_bytes()
    said = [pyve("init", "--yes", "--no-direnv", cwd=other, check=True)]
    env = only_env(other)
    assert installed_urls(env) == lock_urls(read_lock(other), "linux-64")
    site = next(env.glob("lib/python*/site-packages"))
    assert {p.name for p in site.glob("*.dist-info")} >= {"alpha-2.0.dist-info",
                                                          "beta-1.0.dist-info"}
    run = pyve("run", "python", "-c", "import beta, sys; print(sys.prefix)", cwd=other)
    assert run.returncode == 0 and run.stdout.strip() == str(env), run.output
    said += [pyve("build", cwd=other, check=True), pyve("status", cwd=other, check=True),
             pyve("doctor", cwd=other, check=True), pyve("lock", "--check", cwd=other, check=True)]
    assert "Nothing to do" in said[1].stdout
    assert "python from conda-lock.yml" in said[0].stdout
    for args in (("lock",), ("lock", "--platform", "osx-64")):
        refused = pyve(*args, cwd=other)
        assert_one_error(refused, "nothing to lock: conda-lock.yml is this project's definition")
        assert refused.returncode == 2
        said.append(refused)
    assert (other / "conda-lock.yml").read_bytes() == lock_bytes
    assert not (other / "environment.yml").exists()
    for result in said:
        assert "environment.yml" not in result.output, result.output


def test_pip_entries_name_a_url_a_teammate_can_fetch(
        project: Path, pyve: PyveRunner, local_channel: Path, wheelhouse: Path,
        tmp_path: Path) -> None:
    """pip took the wheels from a local find-links folder: the committed lock names the same
    file on the index pip's configuration names, or says in one line that it cannot."""
    from tests.support.wheel_fixtures import build_simple_index

    python_env(project, local_channel, pip=["beta"])
    first = pyve("init", check=True)  # find-links only, no index: nothing to name
    said = [line for line in first.output.splitlines() if "local find-links folder" in line]
    assert len(said) == 1 and "conda-lock.yml: " in said[0], first.output
    served = tmp_path / "served"  # what an index serves: the same files, elsewhere
    shutil.copytree(wheelhouse, served)
    index = build_simple_index(served, tmp_path / "simple")
    relocked = pyve("lock", env={"PIP_NO_INDEX": "false", "PIP_INDEX_URL": index}, check=True)
    assert "local find-links folder" not in relocked.output, relocked.output
    pips = {p["name"]: p["url"] for p in read_lock(project)["package"] if p["manager"] == "pip"}
    assert set(pips) == {"alpha", "beta"}
    assert all(url.startswith(served.as_uri() + "/") for url in pips.values()), pips
    assert_valid_lock(project / "conda-lock.yml")


def test_a_lock_edited_outside_pyve_is_stale_named_and_rewritten(
        project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    """conda-lock.yml carries its own digest (custom_metadata): a valid entry appended is
    never installed nor "up to date" (the fast path included), `--frozen` refuses it in one
    line, and `build` solves again and writes pyve's lock."""
    import yaml

    write_envfile(project, local_channel, ["bar=0.3"], platforms=["linux-64"])
    pyve("init", check=True)
    assert "Nothing to do" in pyve("build", check=True).stdout  # the fast path's snapshot
    lock = project / "conda-lock.yml"
    text = lock.read_text()
    assert "pyve_content: sha256=" in text
    assert_valid_lock(lock)  # conda-lock's parser takes the digest in custom_metadata
    repodata = json.loads((local_channel / "noarch" / "repodata.json").read_text())
    file_name, record = next((f, r) for f, r in repodata["packages"].items()
                             if r["name"] == "needs-missing")
    entry = {"name": "needs-missing", "version": "1.0", "manager": "conda",
             "platform": "linux-64", "dependencies": {},
             "url": f"{local_channel.as_uri()}/noarch/{file_name}",
             "hash": {"md5": record["md5"], "sha256": record["sha256"]},
             "category": "main", "optional": False}
    appended = text + yaml.safe_dump([entry], sort_keys=False)
    lock.write_text(appended)
    assert yaml.safe_load(appended)["package"][-1]["name"] == "needs-missing"
    check = pyve("build", "--check")
    assert check.returncode != 0 and "conda-lock.yml changed outside pyve" in check.output, \
        check.output
    assert "conda-lock.yml changed outside pyve" in pyve("status").output
    assert "conda-lock.yml changed outside pyve" in pyve("lock", "--check").output
    assert_one_error(pyve("build", "--frozen"), "--frozen: conda-lock.yml changed outside pyve")
    assert lock.read_text() == appended
    build = pyve("build", check=True)
    assert "Nothing to do" not in build.stdout, build.output
    assert not any("needs-missing" in url for url in installed_urls(only_env(project)))
    assert lock.read_text() == text
    assert "Nothing to do" in pyve("build", check=True).stdout
