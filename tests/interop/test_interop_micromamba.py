"""The real micromamba on pyve's env and lock: it reads the env as its own, installs the lock
exactly, and its export of the env makes the same env again through pyve."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import yaml

from tests.conftest import PyveRunner
from tests.interop.conftest import Built
from tests.support import interop_helpers as helpers
from tests.support.conda_helpers import lock_urls, python_env, ran, up_to_date, write_envfile

pytestmark = helpers.INTEROP


def package_set(prefix: Path) -> set[tuple[str, str, str]]:
    return {(r["name"], r["version"], r["build"]) for r in helpers.installed(prefix).values()}


def test_micromamba_lists_and_runs_pyve_env(built: Built, mamba_env: dict[str, str]) -> None:
    listed = helpers.micromamba("list", "-p", built.prefix, "--json", env=mamba_env)
    assert {(p["name"], p["version"], p["build_string"]) for p in yaml.safe_load(
        listed.stdout)} == package_set(built.prefix)
    code = "import sys, beta; print(sys.prefix)"
    result = helpers.micromamba("run", "-p", built.prefix, "python", "-c", code, env=mamba_env)
    assert result.stdout.strip() == str(built.prefix)
    # the env's own pip (bin/pip, from the pip package's entry points), not the host's
    result = helpers.micromamba("run", "-p", built.prefix, "pip", "--version", env=mamba_env)
    assert f"from {helpers.site_packages(built.prefix)}/pip " in result.stdout


def test_micromamba_creates_exactly_the_locked_records(built: Built, tmp_path: Path,
                                                       mamba_env: dict[str, str]) -> None:
    prefix = tmp_path / "from-lock"
    helpers.micromamba("create", "--yes", "--offline", "-p", prefix, "-f", built.lock,
                       env=mamba_env)
    lock = yaml.safe_load(built.lock.read_text())
    assert {r["url"] for r in helpers.installed(prefix).values()} == \
        lock_urls(lock, "linux-64")
    locked_pip = {(p["name"], p["version"]) for p in lock["package"] if p["manager"] == "pip"}
    assert locked_pip and locked_pip <= helpers.dists(prefix)
    assert helpers.dists(prefix) == helpers.dists(built.prefix)
    # pyve's package records are as readable as micromamba's own
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (prefix / "conda-meta").glob("*.json")}
    assert modes == {stat.S_IMODE(p.stat().st_mode)
                     for p in (built.prefix / "conda-meta").glob("*.json")}


def test_micromamba_env_export_then_pyve_init(built: Built, project: Path, pyve: PyveRunner,
                                              local_channel: Path,
                                              mamba_env: dict[str, str]) -> None:
    exported = helpers.micromamba("env", "export", "-p", built.prefix, env=mamba_env).stdout
    data = yaml.safe_load(exported)
    assert "bar=0.4=0" in data["dependencies"]  # exact name=version=build pins
    # micromamba names a channel by its last path part (conda-forge stays conda-forge); a
    # file:// channel has to be spelled out again, as a channel alias would
    assert data["channels"] == [local_channel.name]
    data["channels"] = [str(local_channel)]
    # build strings are per platform: an exported file locks for the platform it came from
    # (without this line, locking for osx/win fails, naming the pinned build)
    data["platforms"] = ["linux-64"]
    (project / "environment.yml").write_text(yaml.safe_dump(data))
    pyve("init", "--yes", check=True)
    assert package_set(helpers.env_prefix(project)) == package_set(built.prefix)


def test_the_guides_conda_loop_install_export_build(
        project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """The Guide's data-science loop in one project: `micromamba install` into pyve's env,
    `micromamba env export > environment.yml`, `pyve build`: the env keeps what was installed
    (now declared, so not named as by hand), the lock lists it, and the next build is a no-op."""
    write_envfile(project, local_channel, ["foo-py"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    prefix = helpers.env_prefix(project)
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar", env=mamba_env)
    installed = package_set(prefix)
    exported = yaml.safe_load(
        helpers.micromamba("env", "export", "-p", prefix, env=mamba_env).stdout)
    assert "bar=0.4=0" in exported["dependencies"]
    exported["channels"] = [str(local_channel)]  # a file:// channel is exported by its name
    exported["platforms"] = ["linux-64"]  # exported build strings pin one platform
    (project / "environment.yml").write_text(yaml.safe_dump(exported))
    result = pyve("build", env=mamba_env)
    assert result.returncode == 0, result.output
    assert "by hand" not in result.output
    active = Path(result.stdout.split("Environment: ", 1)[1].split()[0])
    assert active != prefix  # new specs, a new env; the old one waits for `purge --unused`
    assert package_set(active) == installed
    locked = lock_urls(yaml.safe_load((project / "conda-lock.yml").read_text()), "linux-64")
    assert any("/bar-0.4-0." in url for url in locked)
    again = pyve("build", env=mamba_env, check=True).output
    assert "Nothing to do: every stage is up to date." in again
    doctor = pyve("doctor", env=mamba_env)
    assert doctor.returncode == 0 and "nothing installed by hand" in doctor.stdout, doctor.output


def test_micromamba_install_by_hand_is_kept_until_build_exact(
        project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """`micromamba install bar` into pyve's env: `run` and `build` keep it (named once), a
    rebuild of the env keeps it beside the solution, `build --exact` removes it."""
    write_envfile(project, local_channel, ["foo-py"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    prefix = helpers.env_prefix(project)
    locked = lock_urls(yaml.safe_load((project / "conda-lock.yml").read_text()), "linux-64")
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar", env=mamba_env)
    assert "bar" in helpers.installed(prefix)  # micromamba took the env as its own
    check = pyve("build", "--check", env=mamba_env)
    assert check.returncode == 0, check.output
    result = pyve("build", env=mamba_env)
    assert result.returncode == 0, result.output
    assert ("kept bar 0.4-0: installed by hand, not in environment.yml; `pyve add bar` keeps "
            "it for good, `pyve build --exact` removes it") in result.stdout
    assert "bar" in helpers.installed(prefix)
    doctor = pyve("doctor", env=mamba_env)
    assert doctor.returncode == 0, doctor.output  # the lock check leaves bar to by-hand
    assert "installed by hand, not in environment.yml: bar 0.4-0" in doctor.stdout
    forced = pyve("build", "--force", env=mamba_env)  # the env is linked again
    assert forced.returncode == 0, forced.output
    assert ran(forced.output, "create-env") and "kept" not in forced.output
    assert "bar" in helpers.installed(prefix)
    assert pyve("build", "--check", env=mamba_env).returncode == 0
    exact = pyve("build", "--exact", env=mamba_env)
    assert exact.returncode == 0, exact.output
    assert "removed bar 0.4-0: installed by hand, not in environment.yml (--exact)" \
        in exact.stdout
    assert {r["url"] for r in helpers.installed(prefix).values()} == locked
    assert pyve("build", "--check", env=mamba_env).returncode == 0
    # --frozen is exact too: CI gets the lock, nothing else
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar", env=mamba_env)
    frozen = pyve("build", "--frozen", env=mamba_env)
    assert frozen.returncode == 0, frozen.output
    assert "removed bar 0.4-0: installed by hand, not in environment.yml (--frozen)" \
        in frozen.stdout
    assert {r["url"] for r in helpers.installed(prefix).values()} == locked


def test_micromamba_install_the_solution_cannot_keep_is_named(
        project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """`micromamba install bar=0.4` upgrades libfoo against environment.yml's `libfoo 1.*`:
    the build puts libfoo back and solves bar again beside the lock (bar 0.3 fits libfoo 1),
    as a new env of new specs does; the lock does not change. A package no solve fits beside
    the lock goes, named with the reason."""
    write_envfile(project, local_channel, ["foo-py", "libfoo 1.*"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    prefix = helpers.env_prefix(project)
    locked = lock_urls(yaml.safe_load((project / "conda-lock.yml").read_text()), "linux-64")
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar=0.4", "libfoo=2", env=mamba_env)
    assert helpers.installed(prefix)["libfoo"]["version"] == "2.0"
    check = pyve("build", "--check", env=mamba_env)
    assert check.returncode == 1
    assert "env changed outside pyve: libfoo 1.0-h0_0 -> 2.0-h0_0" in check.stdout
    result = pyve("build", env=mamba_env)
    assert result.returncode == 0, result.output
    assert ("bar 0.4-0 (installed by hand) is bar 0.3-0 in the environment: solved again "
            "beside its specs") in result.stdout
    installed = helpers.installed(prefix)
    assert installed["bar"]["version"] == "0.3"
    assert {r["url"] for n, r in installed.items() if n != "bar"} == locked
    assert lock_urls(yaml.safe_load((project / "conda-lock.yml").read_text()),
                     "linux-64") == locked
    # baz exists only for libfoo 1.*: installed by hand into an env of `libfoo 2.*` (which
    # micromamba downgrades), no solve fits it beside the lock, so it goes, named with why
    write_envfile(project, local_channel, ["foo-py", "libfoo 2.*"], platforms=["linux-64"])
    pyve("build", "--exact", env=mamba_env, check=True)
    prefix = Path(json.loads(pyve("status", "--json", env=mamba_env).stdout)["env"])
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "baz", env=mamba_env)
    assert helpers.installed(prefix)["libfoo"]["version"] == "1.0"
    dropped = pyve("build", env=mamba_env)
    assert dropped.returncode == 0, dropped.output
    assert ("removed baz 1.10-0: installed by hand; it needs libfoo 1.*, and the environment "
            "has libfoo 2.0") in dropped.stdout and "solved again" not in dropped.stdout
    assert "baz" not in helpers.installed(prefix)
    assert helpers.installed(prefix)["libfoo"]["version"] == "2.0"


def test_micromamba_install_by_hand_is_carried_into_the_new_env_of_new_specs(
        project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """environment.yml's conda specs change: the new env (another .pyve/envs/<hash>/) gets
    what `micromamba install` put in the old one: as it was where its dependencies are met,
    else solved again beside the new solution (another version of it); what no solve fits
    is named, with the reason. `build --exact` makes it without them."""
    def env_in_use() -> Path:
        status = pyve("status", "--json", env=mamba_env)
        return Path(json.loads(status.stdout)["env"])

    write_envfile(project, local_channel, ["foo-py"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    old_prefix = env_in_use()
    helpers.micromamba("install", "--yes", "-p", old_prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar", env=mamba_env)
    assert pyve("build", env=mamba_env).returncode == 0  # named (and kept) once
    write_envfile(project, local_channel, ["foo-py", "libfoo >=2"], platforms=["linux-64"])
    result = pyve("build", env=mamba_env)
    assert result.returncode == 0, result.output
    prefix = env_in_use()
    assert prefix != old_prefix
    assert "bar" in helpers.installed(prefix), result.output
    assert "kept bar 0.4-0: installed by hand, not in environment.yml" in result.stdout
    assert "bar" not in {p["name"] for p in
                         yaml.safe_load((project / "conda-lock.yml").read_text())["package"]}
    assert pyve("build", "--check", env=mamba_env).returncode == 0
    status = json.loads(pyve("status", "--json", env=mamba_env).stdout)
    assert [p["name"] for p in status["by_hand"]] == ["bar"]
    # bar 0.4 cannot stay beside libfoo 1 (it needs libfoo >=2): solved again, bar 0.3 fits
    write_envfile(project, local_channel, ["foo-py", "libfoo 1.*"], platforms=["linux-64"])
    again = pyve("build", env=mamba_env)
    assert again.returncode == 0, again.output
    assert ("bar 0.4-0 (installed by hand) is bar 0.3-0 in the new environment: solved again "
            "beside its specs") in again.stdout
    assert helpers.installed(env_in_use())["bar"]["version"] == "0.3"
    helpers.micromamba("install", "--yes", "-p", env_in_use(), "--override-channels",
                       "-c", local_channel.as_uri(), "baz", env=mamba_env)  # needs libfoo 1.*
    # no baz fits beside libfoo 2: it goes, said with the reason; bar 0.3 stays as it is
    write_envfile(project, local_channel, ["foo-py", "libfoo 2.*"], platforms=["linux-64"])
    dropped = pyve("build", env=mamba_env)
    assert dropped.returncode == 0, dropped.output
    assert ("removed baz 1.10-0: installed by hand; it needs libfoo 1.*, and the environment "
            "has libfoo 2.0 (add it to environment.yml to have it solved with the rest)"
            ) in dropped.stdout
    assert "baz" not in helpers.installed(env_in_use())
    assert helpers.installed(env_in_use())["bar"]["version"] == "0.3"
    assert "solved again" not in dropped.stdout, dropped.output
    # back to the env that has bar, then --exact: a new env made from the specs alone
    write_envfile(project, local_channel, ["foo-py", "libfoo >=2"], platforms=["linux-64"])
    back = pyve("build", env=mamba_env)
    assert back.returncode == 0, back.output
    assert env_in_use() == prefix and "bar" in helpers.installed(prefix)
    write_envfile(project, local_channel, ["foo-py", "libfoo >=2.0"], platforms=["linux-64"])
    exact = pyve("build", "--exact", env=mamba_env)
    assert exact.returncode == 0, exact.output
    assert "removed bar 0.4-0: installed by hand, not in environment.yml (--exact)" \
        in exact.stdout
    assert "bar" not in helpers.installed(env_in_use()), exact.output
    assert "bar" in helpers.installed(prefix)  # the old env is as the user left it


def test_add_installed_records_micromamba_and_pip_installs_by_hand(
        project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """`micromamba install bar` (which pulls in foo-py and libfoo) and `pip install gamma`:
    `pyve add --installed` writes `bar>=0.4` into environment.yml's dependencies (not what
    bar pulled in) and `gamma>=0.1` into its pip: section; nothing is by hand after it."""
    write_envfile(project, local_channel, ["python", "pip"], pip=["beta"],
                  platforms=["linux-64"])
    original = (project / "environment.yml").read_text()
    pyve("init", "--yes", check=True)
    prefix = helpers.env_prefix(project)
    helpers.micromamba("install", "--yes", "-p", prefix, "--override-channels",
                       "-c", local_channel.as_uri(), "bar", env=mamba_env)
    assert {"bar", "foo-py", "libfoo"} <= set(helpers.installed(prefix))
    subprocess.run([prefix / "bin" / "python", "-m", "pip", "install", "-q", "gamma"],
                   check=True, env=mamba_env)
    result = pyve("add", "--installed", env=mamba_env)
    assert result.returncode == 0, result.output
    assert (project / "environment.yml").read_text() == original.replace(
        "  - pip\n", "  - pip\n  - bar>=0.4\n").replace("    - beta\n",
                                                        "    - beta\n    - gamma>=0.1\n")
    assert "added bar>=0.4 to the dependencies of environment.yml" in result.stdout
    assert "added gamma>=0.1 to the pip: section of environment.yml" in result.stdout
    now = json.loads(pyve("status", "--json", env=mamba_env).stdout)
    assert now["by_hand"] == []
    env = Path(now["env"])
    assert {"bar", "foo-py", "libfoo"} <= set(helpers.installed(env))
    assert ("gamma", "0.1") in helpers.dists(env)
    lock = yaml.safe_load((project / "conda-lock.yml").read_text())
    assert {"bar", "gamma"} <= {p["name"] for p in lock["package"]}
    assert pyve("build", "--check", env=mamba_env).returncode == 0


def test_engine_variable_is_a_mode_of_one_build(project: Path, pyve: PyveRunner,
                                                local_channel: Path,
                                                mamba_env: dict[str, str]) -> None:
    """PYVE_CONDA_ENGINE=micromamba builds with micromamba; a plain `pyve run` and `pyve
    build` then use that env as it is (they used to rebuild it with rattler: "engine
    micromamba -> rattler")."""
    write_envfile(project, local_channel, ["python", "bar"], platforms=["linux-64"])
    with_micromamba = {**mamba_env, "PYVE_CONDA_ENGINE": "micromamba",
                       "PATH": f"{helpers.MICROMAMBA.parent}{os.pathsep}{mamba_env['PATH']}"}
    first = pyve("init", "--yes", env=with_micromamba)
    assert first.returncode == 0, first.output
    assert ran(first.output, "create-env")
    prefix = helpers.env_prefix(project)
    assert "micromamba" in (prefix / "conda-meta" / "history").read_text()
    marker = (prefix / "conda-meta" / "pyve-env.marker").read_text()  # a new id per install
    run = pyve("run", "python", "-c", "import sys; print(sys.prefix)", env=mamba_env)
    assert run.returncode == 0, run.output
    assert run.stdout.strip() == str(prefix)
    plain = pyve("build", env=mamba_env)
    assert plain.returncode == 0, plain.output
    assert up_to_date(plain.output, "create-env"), plain.output
    assert (prefix / "conda-meta" / "pyve-env.marker").read_text() == marker
    assert pyve("build", "--check", env=mamba_env).returncode == 0


def test_a_file_changed_in_micromambas_package_cache_never_reaches_an_env(
        tmp_path: Path, project: Path, pyve: PyveRunner, local_channel: Path,
        mamba_env: dict[str, str]) -> None:
    """With the micromamba engine, micromamba's own package cache is hardlinked into every
    env, as pyve's is with rattler: a file edited there (same size) is found by checking the
    package against its paths.json, and a new env gets the package's real bytes."""
    with_micromamba = {**mamba_env, "PYVE_CONDA_ENGINE": "micromamba",
                       "PATH": f"{helpers.MICROMAMBA.parent}{os.pathsep}{mamba_env['PATH']}"}
    write_envfile(project, local_channel, ["bar"], platforms=["linux-64"])
    assert pyve("init", "--yes", env=with_micromamba).returncode == 0
    original = (helpers.env_prefix(project) / "share" / "bar" / "0.4.txt").read_bytes()
    cached = Path(mamba_env["MAMBA_ROOT_PREFIX"]) / "pkgs" / "bar-0.4-0" / "share" / "bar" / \
        "0.4.txt"
    with cached.open("r+b") as handle:  # same size, other bytes, through the hardlink
        handle.write(bytes(b ^ 0x20 for b in original[:4]))
    other = tmp_path / "other"
    other.mkdir()
    write_envfile(other, local_channel, ["bar"], platforms=["linux-64"])
    result = pyve("init", "--yes", env=with_micromamba, cwd=other)
    assert result.returncode == 0, result.output
    assert (helpers.env_prefix(other) / "share" / "bar" / "0.4.txt").read_bytes() == original


def test_micromamba_engine_builds_an_env_with_pip(project: Path, pyve: PyveRunner,
                                                  local_channel: Path,
                                                  mamba_env: dict[str, str]) -> None:
    """micromamba links an @EXPLICIT list in the order given: pip (noarch: python) before
    python failed with `cannot set permissions ... bin/pip`. pyve hands it python first."""
    python_env(project, local_channel)
    with_micromamba = {**mamba_env, "PYVE_CONDA_ENGINE": "micromamba",
                       "PATH": f"{helpers.MICROMAMBA.parent}{os.pathsep}{mamba_env['PATH']}"}
    result = pyve("init", "--yes", env=with_micromamba)
    assert result.returncode == 0, result.output
    prefix = helpers.env_prefix(project)
    assert "micromamba" in (prefix / "conda-meta" / "history").read_text()
    assert {"python", "pip", "bar"} <= set(helpers.installed(prefix))
    assert ("beta", "1.0") in helpers.dists(prefix)
    run = pyve("run", "pip", "--version", env=mamba_env)
    assert run.returncode == 0, run.output
    assert f"from {helpers.site_packages(prefix)}/pip " in run.stdout
