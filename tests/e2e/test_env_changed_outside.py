"""A package pyve installed that is changed or removed behind its back is stale, and a build
puts it back (issue 12, item 1); a damaged env is never fresh (issue 11, item 7). What the
user installs by hand is theirs (issue 20, part 1): never stale, never removed by `run` or a
plain build (named once), removed by `build --exact` and `--frozen`. Both through the fast
path and the full one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, python_env, write_envfile
from tests.support.helpers import py, stage_line


def _pip(python: Path, sandbox_env: dict[str, str], *args: str) -> None:
    subprocess.run([python, "-m", "pip", *args], env=sandbox_env, check=True,
                   capture_output=True, text=True)


def _version(project: Path, name: str) -> str:
    return py(project, f"import {name}; print({name}.__version__)").stdout.strip()


KEPT_GAMMA = ("kept gamma 0.1: installed by hand, not in requirements.txt; `pyve add gamma` "
              "keeps it for good, `pyve build --exact` removes it")


def test_pip_install_by_hand_is_kept_named_once_and_removed_by_exact(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    check = pyve("build", "--check")
    assert check.returncode == 0, check.output  # the user's package: nothing is stale
    status = pyve("status", check=True)
    assert "by hand: gamma 0.1" in status.stdout and "stale" not in status.stdout
    doc = json.loads(pyve("status", "--json", check=True).stdout)
    assert doc["by_hand"] == [{"name": "gamma", "version": "0.1", "kind": "pip",
                               "requested": True}]
    assert doc["up_to_date"] is True
    doctor = pyve("doctor")
    assert doctor.returncode == 0, doctor.output  # the lock check does not call it a defect
    assert "by-hand" in doctor.stdout and "gamma 0.1" in doctor.stdout
    assert "not locked" not in doctor.stdout
    build = pyve("build", check=True)
    assert KEPT_GAMMA in build.stdout
    assert "up to date" in stage_line(build.stdout, "pip-deps")
    assert py(venv_project, "import gamma").returncode == 0
    again = pyve("build", check=True)  # named once
    assert "kept" not in again.output
    with (venv_project / "requirements.txt").open("a") as f:
        f.write("# an edit: pip-deps runs again\n")
    edited = pyve("build", check=True)
    assert " ran " in stage_line(edited.stdout, "pip-deps")
    assert "kept" not in edited.output and "removed" not in edited.output
    assert py(venv_project, "import gamma").returncode == 0
    # its own upgrade or removal is the user's business too
    assert pyve("build", "--check").returncode == 0
    exact = pyve("build", "--exact", check=True)
    assert "removed gamma 0.1: installed by hand, not in requirements.txt (--exact)" \
        in exact.stdout
    assert "installed by hand: gamma (--exact)" in stage_line(exact.stdout, "pip-deps")
    assert py(venv_project, "import gamma").returncode != 0
    assert pyve("build", "--check").returncode == 0
    assert "by hand" not in pyve("status", check=True).stdout
    # --frozen is exact: the lock, nothing else
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    frozen = pyve("build", "--frozen", check=True)
    assert "removed gamma: not in requirements.lock.txt" in frozen.stdout
    assert py(venv_project, "import gamma").returncode != 0


def test_what_a_package_installed_by_hand_pulled_in_is_kept_with_it(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--yes", check=True)
    _pip(project / ".venv/bin/python", sandbox_env, "install", "beta")  # pulls in alpha
    build = pyve("build", check=True)
    assert ("kept beta 1.0 (and 1 package it needs): installed by hand, not in "
            "requirements.txt; `pyve add beta` keeps it for good") in build.stdout
    assert py(project, "import alpha, beta").returncode == 0
    exact = pyve("build", "--exact", check=True)
    assert "removed alpha 2.0, beta 1.0: installed by hand" in exact.stdout
    assert py(project, "import alpha").returncode != 0
    assert py(project, "import gamma").returncode == 0


def test_version_changed_and_package_removed_are_put_back(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    assert _version(venv_project, "alpha") == "2.0"
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "alpha==1.0")
    check = pyve("build", "--check")
    assert "env changed outside pyve: alpha 2.0 -> 1.0" in check.stdout
    pyve("build", check=True)
    assert _version(venv_project, "alpha") == "2.0"
    _pip(venv_project / ".venv/bin/python", sandbox_env, "uninstall", "--yes", "alpha")
    assert "env changed outside pyve: alpha removed" in pyve("build", "--check").stdout
    pyve("build", check=True)
    assert _version(venv_project, "alpha") == "2.0"


def test_a_version_changed_by_hand_within_the_range_is_put_back_to_the_lock(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """`alpha>=1` allows 1.0, but the lock pins 2.0 and the lock is in force: a change is
    against that pin and put back, as `uv run` puts uv.lock's version back (`uv pip install
    -r`, which has no lock, would keep 1.0). The lock is not rewritten to 1.0."""
    (venv_project / "requirements.txt").write_text("alpha>=1\n")
    pyve("build", check=True)
    lock = (venv_project / "requirements.lock.txt").read_text()
    assert "alpha==2.0" in lock
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "alpha==1.0")
    check = pyve("build", "--check")
    assert check.returncode == 1 and "env changed outside pyve: alpha 2.0 -> 1.0" in check.stdout
    assert "kept" not in pyve("build", check=True).output  # not taken as installed by hand
    assert _version(venv_project, "alpha") == "2.0"
    assert (venv_project / "requirements.lock.txt").read_text() == lock
    assert "by hand" not in pyve("status").stdout


def test_pyve_run_never_removes_what_was_installed_by_hand(
        venv_project: Path, pyve: PyveRunner) -> None:
    """`pyve run pip install ipdb`, then `pyve run pytest --pdb`: the Guide's loop."""
    pyve("run", "python", "-m", "pip", "install", "--quiet", "gamma", check=True)
    first = pyve("run", "python", "-c", "import gamma")  # the full path (site-packages moved)
    assert first.returncode == 0, first.output
    assert "removed" not in first.stderr and "kept" not in first.stderr  # run says nothing
    second = pyve("run", "python", "-c", "import gamma")  # the fast path
    assert second.returncode == 0, second.output
    # the build still names it: the snapshot `pyve run` left does not answer `pyve build`
    assert pyve("build", "--check").returncode == 0
    assert KEPT_GAMMA in pyve("build", check=True).stdout
    # ... and now the fast path answers a no-op build again, still with gamma there
    assert "kept" not in pyve("build", check=True).output
    assert py(venv_project, "import gamma").returncode == 0


def test_shell_hook_and_envrc_never_install_or_remove(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """`pyve shell-hook` (what .envrc evals) only activates: with a package installed by
    hand and a requirement taken out (a build would remove alpha), both stay."""
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    (venv_project / "requirements.txt").write_text("")
    hook = pyve("shell-hook", "--shell", "bash")
    assert hook.returncode == 0, hook.output
    assert "removed" not in hook.stderr and "kept" not in hook.stderr
    assert py(venv_project, "import alpha, gamma").returncode == 0
    assert "shell-hook" in (venv_project / ".envrc").read_text()  # .envrc is this hook


def test_a_version_changed_by_hand_is_put_back_before_run(
        venv_project: Path, pyve: PyveRunner) -> None:
    (venv_project / "requirements.txt").write_text("alpha==2.0\n")
    pyve("build", check=True)
    pyve("run", "python", "-m", "pip", "install", "--quiet", "alpha==1.0", check=True)
    result = pyve("run", "python", "-c", "import alpha; print(alpha.__version__)")
    assert result.stdout.strip() == "2.0", result.output
    assert "env changed outside pyve: alpha 2.0 -> 1.0" in result.stderr


def test_a_package_by_hand_that_the_requirements_conflict_with_goes_and_says_why(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str],
        tmp_path: Path) -> None:
    """`pip install delta` downgrades alpha against requirements.txt's `alpha==2.0`: the
    build puts alpha back, and delta, which needs alpha<2, goes with one line saying why."""
    from tests.support.wheel_fixtures import build_wheel

    (venv_project / "requirements.txt").write_text("alpha==2.0\n")
    pyve("build", check=True)
    more = tmp_path / "more"
    more.mkdir()
    build_wheel(more, "delta", "0.1", ["alpha<2"])
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "--find-links", str(more),
         "delta")
    assert _version(venv_project, "alpha") == "1.0"
    assert "env changed outside pyve: alpha 2.0 -> 1.0" in pyve("build", "--check").stdout
    build = pyve("build", check=True)
    assert "reinstalling alpha: its version was changed outside pyve" in build.stdout
    assert ("removed delta 0.1: installed by hand; it needs alpha<2, and the environment has "
            "alpha 2.0 (add it to requirements.txt to have it resolved with the rest)"
            ) in build.stdout
    assert _version(venv_project, "alpha") == "2.0"
    assert py(venv_project, "import delta").returncode != 0
    assert pyve("build", "--check").returncode == 0


def test_env_without_pip_stage_keeps_what_was_installed_by_hand(
        project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    pyve("init", "--yes", check=True)  # no requirements: create-env is the last stage
    _pip(project / ".venv/bin/python", sandbox_env, "install", "gamma")
    assert pyve("build", "--check").returncode == 0
    build = pyve("build", check=True)
    assert ("kept gamma 0.1: installed by hand, not in any requirements file (the project "
            "has none)") in build.stdout
    assert py(project, "import gamma").returncode == 0
    _pip(project / ".venv/bin/python", sandbox_env, "uninstall", "--yes", "pip")
    assert "stale: create-env: env changed outside pyve: pip removed" in \
        pyve("build", "--check").stdout  # what pyve put there is still watched
    pyve("build", "--exact", check=True)
    assert py(project, "import gamma").returncode != 0
    assert pyve("build", "--check").returncode == 0


def test_missing_pyvenv_cfg_is_damage(venv_project: Path, pyve: PyveRunner) -> None:
    (venv_project / ".venv" / "pyvenv.cfg").unlink()
    check = pyve("build", "--check")
    assert check.returncode == 1
    assert "stale: create-env: .venv/pyvenv.cfg is missing" in check.stdout
    pyve("build", check=True)
    assert py(venv_project, "import alpha").returncode == 0
    assert pyve("build", "--check").returncode == 0




@linux_only
def test_conda_env_changed_outside(project: Path, pyve: PyveRunner, local_channel: Path,
                                   sandbox_env: dict[str, str]) -> None:
    python_env(project, local_channel)  # python, bar, pip + pip: beta
    pyve("init", "--yes", check=True)
    prefix = only_env(project)
    record = next((prefix / "conda-meta").glob("bar-*.json"))
    saved = record.read_bytes()
    record.unlink()  # what `micromamba remove bar` does to the records
    _pip(prefix / "bin" / "python", sandbox_env, "install", "gamma")
    check = pyve("build", "--check")
    assert "stale: create-env: env changed outside pyve: bar removed" in check.stdout
    assert check.returncode == 1
    build = pyve("build", check=True)
    assert record.read_bytes() == saved or record.is_file()
    site = next((prefix / "lib").glob("python*/site-packages"))
    assert (site / "gamma").exists()  # pip install'd by hand inside the conda env: kept
    assert ("kept gamma 0.1: installed by hand, not in environment.yml; `pyve add gamma` "
            "keeps it for good") in build.stdout
    assert pyve("build", "--check").returncode == 0
    doc = json.loads(pyve("status", "--json", check=True).stdout)
    assert doc["by_hand"] == [{"name": "gamma", "version": "0.1", "kind": "pip",
                               "requested": True}]
    exact = pyve("build", "--exact", check=True)
    assert "removed gamma 0.1: installed by hand, not in environment.yml (--exact)" \
        in exact.stdout
    assert not (site / "gamma").exists()
    assert pyve("build", "--check").returncode == 0
    # damage: conda-meta gone (pyve's marker lives there too)
    os.rename(prefix / "conda-meta", prefix / "conda-meta.gone")
    assert "stale: create-env: env changed outside pyve" in pyve("build", "--check").stdout


@linux_only
@linux_only
def test_pip_installs_by_hand_are_carried_into_the_new_env_of_new_conda_specs(
        project: Path, pyve: PyveRunner, local_channel: Path,
        sandbox_env: dict[str, str]) -> None:
    """environment.yml's conda specs change: the new env gets what `pip install` put in the
    old one (at its version, nothing pyve installed changed by it), but not a pip: line
    the user took out in the same edit."""
    def imports(env: Path, name: str) -> bool:
        return subprocess.run([env / "bin" / "python", "-c", f"import {name}"],
                              capture_output=True).returncode == 0

    python_env(project, local_channel, pip=["beta"])  # python, bar, pip + pip: beta
    pyve("init", "--yes", check=True)
    old = only_env(project)
    _pip(old / "bin" / "python", sandbox_env, "install", "gamma")
    assert pyve("build", check=True).returncode == 0  # named once
    python_env(project, local_channel, pip=["alpha"], deps=("bar", "libfoo"))  # beta goes
    build = pyve("build", check=True)
    assert "kept gamma 0.1: installed by hand, not in environment.yml" in build.stdout
    new = Path(json.loads(pyve("status", "--json", check=True).stdout)["env"])
    assert new != old
    assert imports(new, "gamma") and imports(new, "alpha")
    assert not imports(new, "beta")  # taken out of pip:, not installed by hand
    doc = json.loads(pyve("status", "--json", check=True).stdout)
    assert [p["name"] for p in doc["by_hand"]] == ["gamma"]
    assert pyve("build", "--check").returncode == 0
    assert "gamma" in {d.name.split("-")[0] for d in
                       next(old.glob("lib/python*/site-packages")).glob("*.dist-info")}
    # --exact: the next new env is made without it
    python_env(project, local_channel, pip=["alpha"], deps=("bar", "libfoo 2.*"))
    exact = pyve("build", "--exact", check=True)
    assert "kept" not in exact.output
    newest = Path(json.loads(pyve("status", "--json", check=True).stdout)["env"])
    assert newest not in (old, new) and not imports(newest, "gamma")


@linux_only
def test_a_pip_install_by_hand_the_new_env_cannot_take_is_named(
        project: Path, pyve: PyveRunner, local_channel: Path, sandbox_env: dict[str, str],
        tmp_path: Path) -> None:
    """delta (needs alpha<2), installed by hand in the old env, cannot go beside the new
    env's alpha 2.0: it is not installed (nothing pyve installed changes), and said why."""
    from tests.support.wheel_fixtures import build_wheel

    more = tmp_path / "more"
    more.mkdir()
    build_wheel(more, "delta", "0.1", ["alpha<2"])
    env = {**sandbox_env, "PIP_FIND_LINKS": f"{sandbox_env['PIP_FIND_LINKS']} {more}"}
    python_env(project, local_channel, pip=["beta"])
    pyve("init", "--yes", check=True, env=env)
    _pip(only_env(project) / "bin" / "python", env, "install", "delta")  # alpha 1.0 too
    python_env(project, local_channel, pip=["beta", "alpha==2.0"], deps=("bar", "libfoo"))
    build = pyve("build", env=env)
    assert build.returncode == 0, build.output
    assert "removed delta 0.1: installed by hand; it cannot be installed in the new " \
        "environment: " in build.stdout, build.output
    new = Path(json.loads(pyve("status", "--json", check=True, env=env).stdout)["env"])
    site = next(new.glob("lib/python*/site-packages"))
    assert {d.name.split("-")[0] for d in site.glob("*.dist-info")} >= {"alpha", "beta"}
    assert not list(site.glob("delta-*")) and list(site.glob("alpha-2.0.dist-info"))
    assert pyve("build", "--check", env=env).returncode == 0


def test_conda_reasons_say_what_pyve_changed(project: Path, pyve: PyveRunner,
                                             local_channel: Path) -> None:
    """"env changed outside pyve" only for a change made outside pyve: new specs make a new
    env (its own folder), and a stage after one that re-made the env finds it changed by
    pyve. Reasons name no file of pyve's own."""
    python_env(project, local_channel)  # python, bar, pip + pip: beta
    pyve("init", "--yes", check=True)
    first = only_env(project)
    python_env(project, local_channel, deps=("bar", "baz"))
    status = pyve("status", check=True).stdout
    for stage in ("create-env", "pip-deps"):
        assert "(new environment: specs changed)" in stage_line(status, stage), status
    build = pyve("build", check=True).stdout
    for stage in ("create-env", "pip-deps"):
        assert "(new environment: specs changed; " in stage_line(build, stage), build
    python_env(project, local_channel)  # back to the first env, still on disk
    assert "(new environment: specs changed)" in stage_line(
        pyve("status", check=True).stdout, "create-env")
    build = pyve("build", check=True).stdout
    assert "new environment: specs changed" in stage_line(build, "create-env"), build
    # pyve re-makes the env (its marker is damaged): the pip packages went with it
    (first / "conda-meta" / "pyve-env.marker").write_text("garbage")
    build = pyve("build", check=True).stdout
    assert stage_line(build, "pip-deps").endswith("(create-env re-ran)"), build
    # the solution's file: missing, then damaged
    solution = first.parent / f"{first.name}.solution.json"
    solution.unlink()
    assert stage_line(pyve("status", check=True).stdout, "create-env").endswith(
        "(after conda-solve)")
    pyve("build", check=True)
    solution.write_text("not json")
    build = pyve("build", check=True).stdout
    assert stage_line(build, "conda-solve").endswith("(the recorded solve is damaged)"), build
    for text in (build, status):
        assert "outside pyve" not in text and "solution.json" not in text, text


@linux_only
def test_a_conda_package_that_is_a_distribution_is_named_once(
        project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    """pip is a conda package and a distribution: removed, it is said once."""
    write_envfile(project, local_channel, ["python", "pip"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)  # no pip stage: create-env watches both
    prefix = only_env(project)
    next((prefix / "conda-meta").glob("pip-*.json")).unlink()
    shutil.rmtree(next(prefix.glob("lib/python*/site-packages/pip-*.dist-info")))
    line = stage_line(pyve("status", check=True).stdout, "create-env")
    assert line.endswith("(env changed outside pyve: pip removed)"), line


def test_guide_flow_pip_install_then_freeze_keeps_the_package(
        venv_project: Path, pyve: PyveRunner, sandbox_env: dict[str, str]) -> None:
    """The Backends Guide: `pip install x` then `pip freeze > requirements.txt`: the env
    still has x, nothing is reinstalled, and the lock lists x."""
    _pip(venv_project / ".venv/bin/python", sandbox_env, "install", "gamma")
    site = next((venv_project / ".venv/lib").glob("python*/site-packages"))
    installed = os.stat(next(site.glob("gamma-*.dist-info")) / "RECORD").st_ino
    frozen = subprocess.run([venv_project / ".venv/bin/python", "-m", "pip", "freeze"],
                            env=sandbox_env, check=True, capture_output=True, text=True).stdout
    (venv_project / "requirements.txt").write_text(frozen)
    build = pyve("build", check=True)
    assert "removed" not in build.output and "kept" not in build.output
    assert "reinstalling" not in build.output
    assert os.stat(next(site.glob("gamma-*.dist-info")) / "RECORD").st_ino == installed
    assert py(venv_project, "import gamma").returncode == 0
    lock = (venv_project / "requirements.lock.txt").read_text()
    assert "gamma==0.1" in lock and "alpha==2.0" in lock
    assert pyve("build", "--check").returncode == 0
    assert "by hand" not in pyve("status", check=True).stdout
