"""The conda-lock CLI on pyve's conda-lock.yml: it calls the lock fresh, renders and installs it.

The CLI fetches two things unless it is given local ones: the PyPI -> conda name mapping
(from GitHub, whenever the env file has a pip section) and a micromamba binary (when none is
named). Both are given: `--pypi_to_conda_lookup_file` and `--conda`. The proxies point at a
closed port, so a run that reached for the network fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PyveRunner
from tests.interop.conftest import Built
from tests.support import interop_helpers as helpers
from tests.support.conda_helpers import lock_urls, write_envfile

pytestmark = helpers.INTEROP


def check_input_hash(project: Path, environ: dict[str, str]) -> str:
    """`conda-lock lock --check-input-hash` on the project's files; its stderr. The lock
    must come out byte for byte the same."""
    mapping = project.parent / "pypi-to-conda.json"
    mapping.write_text("{}")  # names map to themselves: no download
    before = (project / "conda-lock.yml").read_bytes()
    result = helpers.conda_lock(
        "lock", "--check-input-hash", "--micromamba", "--conda", helpers.MICROMAMBA,
        "--pypi_to_conda_lookup_file", mapping, "-f", "environment.yml",
        env=environ, cwd=project)
    assert result.returncode == 0, result.output
    assert (project / "conda-lock.yml").read_bytes() == before
    return result.stderr


@pytest.mark.parametrize(("deps", "platforms", "expected"), [
    (["bar"], ["linux-64"], "['linux-64']"),
    (["bar", "libfoo>=1"], None, "['linux-64', 'osx-64', 'osx-arm64', 'win-64']"),
], ids=["conda-only", "multi-platform"])
def test_conda_lock_cli_finds_pyve_lock_fresh(
        project: Path, pyve: PyveRunner, local_channel: Path, mamba_env: dict[str, str],
        deps: list[str], platforms: list[str] | None, expected: str) -> None:
    write_envfile(project, local_channel, deps, platforms=platforms)
    pyve("lock", check=True)
    stderr = check_input_hash(project, mamba_env)
    assert f"Spec hash already locked for {expected}. Skipping solve." in stderr
    assert "Locking dependencies" not in stderr


def test_conda_lock_cli_finds_pyve_lock_fresh_with_pip(built: Built, tmp_path: Path,
                                                        mamba_env: dict[str, str]) -> None:
    """`pip` in dependencies plus a `pip:` section: the CLI keeps one `pip` (the section's),
    and pyve's content_hash must say the same."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("environment.yml", "conda-lock.yml"):
        shutil.copy2(built.root / name, copy / name)
    stderr = check_input_hash(copy, mamba_env)
    assert "Spec hash already locked for ['linux-64']. Skipping solve." in stderr
    assert "Locking dependencies" not in stderr


def test_conda_lock_render_explicit_then_micromamba_create(
        built: Built, tmp_path: Path, mamba_env: dict[str, str]) -> None:
    template = str(tmp_path / "explicit-{platform}.lock")
    result = helpers.conda_lock("render", "-k", "explicit", "--filename-template", template,
                                built.lock, env=mamba_env, cwd=tmp_path)
    assert result.returncode == 0, result.output
    explicit = tmp_path / "explicit-linux-64.lock"
    assert "@EXPLICIT" in explicit.read_text()
    prefix = tmp_path / "from-explicit"
    helpers.micromamba("create", "--yes", "--offline", "-p", prefix, "--file", explicit,
                       env=mamba_env)
    lock = yaml.safe_load(built.lock.read_text())
    assert {r["url"] for r in helpers.installed(prefix).values()} == \
        lock_urls(lock, "linux-64")


def test_conda_lock_install_puts_pip_packages_in_the_env(
        built: Built, tmp_path: Path, mamba_env: dict[str, str]) -> None:
    """conda-lock installs the pip entries with `micromamba run pip`: the env's own pip
    (bin/pip, as a real pip package has), never one found further down PATH."""
    prefix = tmp_path / "installed"
    result = helpers.conda_lock("install", "--micromamba", "--conda", helpers.MICROMAMBA,
                                "-p", prefix, built.lock, env=mamba_env, cwd=tmp_path)
    assert result.returncode == 0, result.output
    lock = yaml.safe_load(built.lock.read_text())
    locked_pip = {(p["name"], p["version"]) for p in lock["package"] if p["manager"] == "pip"}
    assert locked_pip == {("alpha", "2.0"), ("beta", "1.0")}
    assert locked_pip <= helpers.dists(prefix)
    assert {r["url"] for r in helpers.installed(prefix).values()} == \
        lock_urls(lock, "linux-64")


def test_the_lock_headers_install_commands_work_as_written(
        built: Built, tmp_path: Path, mamba_env: dict[str, str]) -> None:
    """The commands the lock's header gives, run word for word (ENV: a new folder), with
    micromamba on PATH as a user has it: both make the locked env, pip packages included."""
    header = "".join(line for line in built.lock.read_text().splitlines(keepends=True)
                     if line.startswith("#"))
    commands = [c for c in re.findall(r"`([^`]+)`", header.replace("\n# ", " ")) if "ENV" in c]
    assert [c.split()[0] for c in commands] == ["micromamba", "conda-lock"], header
    environ = {**mamba_env,
               "PATH": f"{helpers.MICROMAMBA.parent}{os.pathsep}{mamba_env['PATH']}"}
    lock = yaml.safe_load(built.lock.read_text())
    locked_pip = {(p["name"], p["version"]) for p in lock["package"] if p["manager"] == "pip"}
    for number, command in enumerate(commands):
        prefix = tmp_path / f"env-{number}"
        words = [str(prefix) if w == "ENV" else w for w in shlex.split(command)]
        tool = [sys.executable, "-m", "conda_lock"] if words[0] == "conda-lock" else \
            [helpers.MICROMAMBA]
        result = helpers.run([*tool, *words[1:]], environ, cwd=built.root)
        assert result.returncode == 0, f"{command}:\n{result.output}"
        assert {r["url"] for r in helpers.installed(prefix).values()} == \
            lock_urls(lock, "linux-64"), command
        assert locked_pip <= helpers.dists(prefix), command
