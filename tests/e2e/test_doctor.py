"""`pyve doctor`: each check's ✓ and ✗/⚠ case on real environments, and the exit-code
contract (0: all good or warnings only; 1: any error)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import only_env, python_env, write_envfile


def doctor(pyve: PyveRunner, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = pyve("doctor", "--json", *args)
    data = json.loads(result.stdout)
    assert data["ok"] == (result.returncode == 0), result.output
    assert (data["schema"], data["command"]) == (1, "doctor")  # as every JSON document
    return result.returncode, {c["name"]: c for c in data["checks"]}


def test_healthy_venv(venv_project: Path, pyve: PyveRunner) -> None:
    code, checks = doctor(pyve)
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"ok"}, checks
    assert set(checks) >= {"environment", "stages", "interpreter", "lock", "lock-fresh",
                           "unused-envs", "disk", "dotenv"}
    text = pyve("doctor")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert all(line.startswith("✓ ") for line in lines[:-1]), text.stdout
    assert "environment" in checks["disk"]["message"]


def test_missing_env_is_an_error(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("alpha\n")
    code, checks = doctor(pyve)
    assert code == 1 and checks["environment"]["status"] == "error"
    assert "pyve init" in checks["environment"]["hint"]
    result = pyve("doctor")
    assert result.returncode == 1 and "✗ environment" in result.stdout


def test_broken_interpreter(venv_project: Path, pyve: PyveRunner) -> None:
    cfg = venv_project / ".venv" / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("version", "version = 3.1.0\n#", 1))
    code, checks = doctor(pyve)
    assert code == 1 and checks["interpreter"]["status"] == "error"
    assert "3.1.0" in checks["interpreter"]["message"]
    (venv_project / ".venv" / "bin" / "python").unlink()
    code, checks = doctor(pyve)
    assert code == 1 and checks["interpreter"]["status"] == "error"


def _fake_dist(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("")


def test_env_differs_from_lock(venv_project: Path, pyve: PyveRunner) -> None:
    site = next((venv_project / ".venv" / "lib").glob("python*/site-packages"))
    _fake_dist(site, "intruder", "9.9")  # as if someone ran `pip install intruder`
    code, checks = doctor(pyve)
    assert code == 1 and checks["lock"]["status"] == "error"
    assert "intruder 9.9 installed, not locked" in checks["lock"]["message"]


def test_stale_lock_and_missing_lock_warn(venv_project: Path, pyve: PyveRunner) -> None:
    (venv_project / "requirements.txt").write_text("alpha\nbeta\n")
    code, checks = doctor(pyve)
    assert code == 0  # warnings only
    assert checks["lock-fresh"]["status"] == "warn"
    assert "requirements.txt" in checks["lock-fresh"]["message"]
    assert checks["stages"]["status"] == "warn"
    (venv_project / "requirements.lock.txt").unlink()
    code, checks = doctor(pyve)
    assert code == 0 and checks["lock"]["status"] == "warn"


def test_dotenv_permissions(venv_project: Path, pyve: PyveRunner) -> None:
    env = venv_project / ".env"
    env.write_text("TOKEN=x\n")
    env.chmod(0o644)
    code, checks = doctor(pyve)
    assert code == 0 and checks["dotenv"]["status"] == "warn"
    assert "chmod 600" in checks["dotenv"]["hint"]
    env.chmod(0o600)
    _, checks = doctor(pyve)
    assert checks["dotenv"]["status"] == "ok"


def test_unused_envs_warn(venv_project: Path, pyve: PyveRunner) -> None:
    (venv_project / ".pyve" / "envs" / "0123456789abcdef").mkdir(parents=True)
    code, checks = doctor(pyve)
    assert code == 0 and checks["unused-envs"]["status"] == "warn"
    assert "pyve purge --unused" in checks["unused-envs"]["hint"]
    result = pyve("doctor")
    assert "⚠ unused-envs" in result.stdout and "pyve purge --unused" in result.stdout


@linux_only
def test_conda_env_checks(project: Path, pyve: PyveRunner, local_channel: Path) -> None:
    python_env(project, local_channel)
    pyve("init", "--backend", "micromamba", "--yes", check=True)
    code, checks = doctor(pyve)
    assert code == 0, checks
    assert checks["pip-vs-conda"]["status"] == "ok"
    assert checks["lock"]["status"] == "ok" and checks["lock-fresh"]["status"] == "ok"
    assert "package cache" in checks["disk"]["message"]
    # rattler hard-links the packages' files from the package cache: most of the env is
    # shared (what is written in place is not: conda-meta/, and the __pycache__ Python writes
    # when pip runs there, about 40% of this small env; a copying install shares 0%)
    shared = re.search(r"\((\d+)%\) are hard links shared with the package cache",
                       checks["disk-shared"]["message"])
    assert checks["disk-shared"]["status"] == "ok" and shared, checks["disk-shared"]
    assert int(shared.group(1)) >= 50, checks["disk-shared"]

    # pip rewrote a file of the conda package `pip` (listed in its RECORD)
    prefix = only_env(project)
    target = next(prefix.glob("lib/python*/site-packages/pip/__init__.py"))
    target.write_text(target.read_text() + "# rewritten by pip\n")
    code, checks = doctor(pyve)
    assert code == 1 and checks["pip-vs-conda"]["status"] == "error"
    assert "pip (1 file" in checks["pip-vs-conda"]["message"]

    # a conda package not in the lock; the lock stale against environment.yml
    meta = next((prefix / "conda-meta").glob("bar-*.json"))
    data = json.loads(meta.read_text())
    data["url"] = data["url"].replace("bar-", "bar-other-")
    meta.write_text(json.dumps(data))
    code, checks = doctor(pyve)
    assert code == 1 and checks["lock"]["status"] == "error"
    assert "bar-other-0.4-0 installed, not locked" in checks["lock"]["message"]

    # a platform added to environment.yml: same env, the lock lacks that platform
    text = (project / "environment.yml").read_text()
    (project / "environment.yml").write_text(text.replace("[linux-64]", "[linux-64, osx-64]"))
    _, checks = doctor(pyve)
    assert checks["lock-fresh"]["status"] == "warn", checks["lock-fresh"]
    assert "osx-64" in checks["lock-fresh"]["message"]

    # another conda definition: a new env is due, the old one is now unused
    python_env(project, local_channel, deps=("bar", "baz"))
    code, checks = doctor(pyve)
    assert code == 1 and checks["environment"]["status"] == "error"
    assert checks["unused-envs"]["status"] == "warn"


@linux_only
def test_conda_files_changed_in_the_env(project: Path, pyve: PyveRunner,
                                        local_channel: Path) -> None:
    """doctor compares each conda package's files with its conda-meta record: the size by
    default, the sha256 too with --deep (a same-size edit); `build --repair` links exactly
    that package again, `build --force` too."""
    write_envfile(project, local_channel, ["bar"], platforms=["linux-64"])
    pyve("init", "--yes", check=True)
    code, checks = doctor(pyve, "--deep")
    assert code == 0 and checks["conda-files"]["status"] == "ok", checks["conda-files"]
    target = only_env(project) / "share" / "bar" / "0.4.txt"
    original = target.read_bytes()

    target.unlink()  # a new file in its place: the package cache keeps the original
    target.write_bytes(original.upper())
    code, checks = doctor(pyve)
    assert code == 0 and checks["conda-files"]["status"] == "ok"  # same size: not seen
    code, checks = doctor(pyve, "--deep")
    assert code == 1 and checks["conda-files"]["status"] == "error", checks["conda-files"]
    assert "bar (1 file, e.g. share/bar/0.4.txt)" in checks["conda-files"]["message"]

    target.write_bytes(original + b"more\n")
    code, checks = doctor(pyve)
    assert code == 1 and "share/bar/0.4.txt" in checks["conda-files"]["message"]
    human = pyve("doctor")
    assert human.returncode == 1 and "✗ conda-files" in human.stdout, human.output

    target.unlink()
    code, checks = doctor(pyve)
    assert code == 1 and "bar (1 file" in checks["conda-files"]["message"]
    assert "`pyve build --repair`" in checks["conda-files"]["hint"]
    meta = only_env(project) / "conda-meta"
    others = {p.name: p.stat().st_mtime_ns for p in meta.glob("*.json")
              if not p.name.startswith("bar-")}
    repair = pyve("build", "--repair", check=True)
    assert "repaired bar: files changed since installed, installed again" in repair.stdout
    assert target.read_bytes() == original
    assert {p.name: p.stat().st_mtime_ns for p in meta.glob("*.json")
            if not p.name.startswith("bar-")} == others  # foo-py, libfoo: left alone
    assert doctor(pyve, "--deep")[0] == 0

    target.unlink()
    assert pyve("build", "--force").returncode == 0
    assert target.read_bytes() == original
    code, checks = doctor(pyve, "--deep")
    assert code == 0 and checks["conda-files"]["status"] == "ok", checks["conda-files"]


def _site(project: Path, env: str = ".venv") -> Path:
    return next((project / env).glob("lib/python*/site-packages"))


def test_site_packages_files_changed_in_the_venv(project: Path, pyve: PyveRunner) -> None:
    """doctor compares each installed distribution's files with its RECORD: a missing file
    (one stat) by default, a same-size edit with --deep; `build --repair` reinstalls exactly
    the damaged package (uv links from its cache: an edit in place is fetched afresh)."""
    (project / "requirements.txt").write_text("beta\n")  # and alpha, which beta needs
    pyve("init", "--yes", check=True)
    code, checks = doctor(pyve, "--deep")
    assert code == 0 and checks["package-files"]["status"] == "ok", checks["package-files"]
    site = _site(project)
    target = site / "alpha" / "__init__.py"
    original = target.read_bytes()

    target.write_bytes(original.upper())  # in place: the same inode as uv's cache entry
    code, checks = doctor(pyve)
    assert code == 0 and checks["package-files"]["status"] == "ok"  # same size: not seen
    code, checks = doctor(pyve, "--deep")
    assert code == 1 and checks["package-files"]["status"] == "error", checks
    assert "alpha (1 file, e.g. alpha/__init__.py)" in checks["package-files"]["message"]
    assert "`pyve build --repair`" in checks["package-files"]["hint"]
    # a reinstall writes the dist-info anew (its inode number may be reused: not a sign)
    beta_info = (next(site.glob("beta-*.dist-info")) / "RECORD").stat().st_mtime_ns
    alpha_info = (next(site.glob("alpha-*.dist-info")) / "RECORD").stat().st_mtime_ns
    repair = pyve("build", "--repair", check=True)
    assert "repaired alpha: files changed since installed, installed again" in repair.stdout
    assert target.read_bytes() == original
    assert (next(site.glob("beta-*.dist-info")) / "RECORD").stat().st_mtime_ns == beta_info
    assert (next(site.glob("alpha-*.dist-info")) / "RECORD").stat().st_mtime_ns != alpha_info
    code, checks = doctor(pyve, "--deep")
    assert code == 0, checks

    target.unlink()
    code, checks = doctor(pyve)
    assert code == 1 and "alpha (1 file" in checks["package-files"]["message"], checks
    human = pyve("doctor")
    assert "✗ package-files" in human.stdout and "pyve build --repair" in human.stdout
    assert "repaired alpha" in pyve("build", "--repair", check=True).stdout
    assert target.read_bytes() == original
    again = pyve("build", "--repair", check=True)
    assert "nothing to repair: every package's files are as installed" in again.stdout
    assert doctor(pyve, "--deep")[0] == 0


def test_build_repair_with_the_pip_installer(venv_project: Path, pyve: PyveRunner) -> None:
    settings = venv_project / "pyve.toml"
    settings.write_text(settings.read_text().replace('installer = "uv"', 'installer = "pip"'))
    assert 'installer = "pip"' in settings.read_text()
    pyve("build", check=True)
    target = _site(venv_project) / "alpha" / "__init__.py"
    original = target.read_bytes()
    target.write_bytes(original + b"# edited\n")
    assert doctor(pyve)[0] == 1
    repair = pyve("build", "--repair", check=True)
    assert "repaired alpha: files changed since installed, installed again" in repair.stdout
    assert target.read_bytes() == original
    assert doctor(pyve, "--deep")[0] == 0
