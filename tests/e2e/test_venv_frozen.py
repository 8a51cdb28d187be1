"""--frozen with the venv backend: a mode, not an input (the next command changes nothing);
the lock drives the env exactly, every entry hash-checked, installed packages included; and
`pyve lock` never writes a lock the env does not back."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyveRunner
from tests.support.helpers import py, resealed, stage_line, status_json

LOCK = "requirements.lock.txt"


def clone(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    target.mkdir()
    for name in ("requirements.txt", LOCK, "pylock.toml", "pyve.toml"):
        shutil.copy2(project / name, target / name)
    return target


def test_frozen_build_then_any_command_changes_nothing(project: Path, pyve: PyveRunner,
                                                        tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    ci = clone(project, tmp_path)
    pyve("build", "--frozen", cwd=ci, check=True)
    lock = (ci / LOCK).read_bytes()
    stat = (ci / LOCK).stat()
    status = status_json(pyve("status", "--json", cwd=ci))
    assert status["up_to_date"] and all(s["status"] == "up-to-date" for s in status["stages"])
    assert pyve("build", "--check", cwd=ci).returncode == 0
    run = pyve("run", "python", "-c", "import beta", cwd=ci, check=True)
    assert "pip-deps" not in run.stderr and "freeze" not in run.stderr, run.stderr
    again = pyve("build", cwd=ci, check=True)
    assert "Nothing to do" in again.stdout, again.stdout
    assert (ci / LOCK).read_bytes() == lock and (ci / LOCK).stat().st_mtime == stat.st_mtime


def test_frozen_removes_what_the_lock_does_not_list(project: Path, pyve: PyveRunner,
                                                    wheelhouse: Path) -> None:
    (project / "requirements.txt").write_text("beta\n")
    # pip: its install report says which file each package came from, so only gamma differs
    # (under uv the first --frozen build checks every package's file again)
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": "pip"}, check=True)
    subprocess.run([project / ".venv" / "bin" / "python", "-m", "pip", "install", "-q",
                    "gamma"], check=True, capture_output=True,
                   env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)})
    result = pyve("build", "--frozen", check=True)
    assert "gamma 0.1 installed, not locked" in stage_line(result.stdout, "pip-deps"), result.stdout
    assert "removed gamma: not in requirements.lock.txt" in result.output
    assert py(project, "import gamma").returncode != 0
    assert py(project, "import alpha, beta").returncode == 0


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_frozen_checks_the_hash_of_an_installed_package(installer: str, project: Path,
                                                        pyve: PyveRunner) -> None:
    """A hand-edited hash must not pass because the package is already there."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", env={"PYVE_INSTALLER": installer}, check=True)
    text = (project / LOCK).read_text()
    beta = re.search(r"beta==1\.0 \\\n    --hash=sha256:([0-9a-f]{64})", text)
    assert beta
    # the digest made right: this aims at the install's hash check, not the lock's own
    (project / LOCK).write_text(resealed(text.replace(beta.group(1), "0" * 64)))
    result = pyve("build", "--frozen")
    assert result.returncode == 1, result.output
    # beta was installed from the lock, hash-checked (pip's report names its file; with uv,
    # the lock's hashes were the only ones it accepted): the lock no longer lists that file
    assert "sha256 is not in the lock" in stage_line(result.stdout, "pip-deps"), result.stdout
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(error) == 1 and "hash mismatch" in error[0].lower(), result.stderr
    assert pyve("doctor").returncode == 1  # never a tick for it either


def test_frozen_refuses_an_entry_without_a_valid_hash(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    text = (project / LOCK).read_text()
    unhashed = re.sub(r"(beta==1\.0) \\\n    --hash=sha256:[0-9a-f]{64}", r"\1", text)
    (project / LOCK).write_text(unhashed)
    result = pyve("build", "--frozen")
    assert result.returncode == 1
    line = next(n for n, t in enumerate(unhashed.splitlines(), 1) if t.startswith("beta=="))
    assert f"requirements.lock.txt line {line}: beta==1.0 has no sha256 hash" in result.stderr
    short = text.replace(text.split("--hash=sha256:")[1][:64], "abc123")
    (project / LOCK).write_text(short)
    result = pyve("build", "--frozen")
    assert result.returncode == 1 and "is not a sha256 hash" in result.stderr, result.stderr
    doctor = pyve("doctor")
    assert doctor.returncode == 1 and "is not a sha256 hash" in doctor.stdout, doctor.stdout


def test_lock_after_a_failed_build_refuses(project: Path, pyve: PyveRunner) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    before = (project / LOCK).read_bytes()
    (project / "requirements.txt").write_text("beta\nno-such-package-anywhere\n")
    assert pyve("build").returncode == 1
    result = pyve("lock")
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "the last build did not finish installing" in errors[0], \
        result.stderr
    assert (project / LOCK).read_bytes() == before


def test_a_local_path_is_listed_and_installed_from_the_path(project: Path, pyve: PyveRunner,
                                                            tmp_path: Path) -> None:
    from tests.conftest import write_tiny_project

    write_tiny_project(project / "lib", requires=("gamma",))
    (project / "requirements.txt").write_text("-e ./lib\nbeta\n")
    pyve("init", "--auto-install-deps", check=True)
    lock = (project / LOCK).read_text()
    assert "# not hash-locked (a local path): -e ./lib\n" in lock and "gamma==0.1" in lock
    ci = clone(project, tmp_path)
    shutil.copytree(project / "lib", ci / "lib")
    pyve("build", "--frozen", cwd=ci, check=True)
    assert py(ci, "import tiny, gamma, beta").returncode == 0
    assert "Nothing to do" in pyve("build", cwd=ci, check=True).stdout


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_frozen_with_a_range_constraint_in_pip_config(installer: str, project: Path,
                                                      pyve: PyveRunner, tmp_path: Path) -> None:
    """`alpha<=2.0` in pip.conf's constraint file (common on shared machines): uv refuses a
    range constraint under --require-hashes; pyve checks the lock against it and installs
    the lock without it. A constraint the lock breaks is named in one line."""
    (project / "requirements.txt").write_text("beta\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("alpha<=2.0\n")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nconstraint = {constraints}\n")
    env = {"PIP_CONFIG_FILE": str(conf), "PYVE_INSTALLER": installer}
    pyve("init", "--auto-install-deps", env=env, check=True)
    ci = clone(project, tmp_path)
    pyve("build", "--frozen", cwd=ci, env=env, check=True)
    assert py(ci, "import alpha; assert alpha.__version__ == '2.0'").returncode == 0
    constraints.write_text("gamma>0\nalpha<2 ; python_version >= '3'\n")
    ci2 = tmp_path / "ci2"
    shutil.copytree(ci, ci2, ignore=shutil.ignore_patterns(".venv", ".pyve"))
    broken = pyve("build", "--frozen", cwd=ci2, env=env)
    assert broken.returncode == 1
    errors = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: alpha==2.0 in requirements.lock.txt is outside the constraint "
                      f"`alpha<2 ; python_version >= '3'` ({constraints}, set by {conf})"], \
        broken.stderr


def test_a_lock_edited_outside_pyve_is_stale_named_and_rewritten(project: Path,
                                                                 pyve: PyveRunner) -> None:
    """The lock is the lock stage's output: garbage in it, or a valid hashed entry appended,
    is never "up to date" (the fast path included), `--frozen` refuses it in one line before
    installing anything, and `build` writes pyve's lock again."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    assert "Nothing to do" in pyve("build", check=True).stdout  # the fast path's snapshot
    lock, pylock = project / LOCK, project / "pylock.toml"
    text, pylock_text = lock.read_text(), pylock.read_text()
    header = "".join(text.splitlines(keepends=True)[:5])  # pyve's lines, its digest's too
    assert "# pyve-content: sha256=" in header
    appended = text + "gamma==0.1 \\\n    --hash=sha256:" + "ab" * 32 + "\n"
    for edited in (appended, header + "\x7fgarbage ~~ !!\n"):
        lock.write_text(edited)
        check = pyve("build", "--check")
        assert check.returncode != 0 and f"{LOCK} changed outside pyve" in check.output, \
            check.output
        status = pyve("status")
        assert f"{LOCK} changed outside pyve" in status.output, status.output
        frozen = pyve("build", "--frozen")
        errors = [ln for ln in frozen.stderr.splitlines() if ln.startswith("error:")]
        assert frozen.returncode == 1 and len(errors) == 1, frozen.output
        assert "requirements.lock.txt" in errors[0]
        assert lock.read_text() == edited  # --frozen never rewrites it
        assert py(project, "import gamma").returncode != 0
        build = pyve("build", check=True)
        assert "Nothing to do" not in build.stdout and lock.read_text() == text, build.output
        assert "Nothing to do" in pyve("build", check=True).stdout
    frozen_error = "--frozen: requirements.lock.txt changed outside pyve"
    lock.write_text(appended)
    assert frozen_error in pyve("build", "--frozen").stderr
    pyve("build", check=True)
    # pylock.toml, written beside it: its digest is in requirements.lock.txt
    pylock.write_text(pylock_text.replace('lock-version = "1.0"', 'lock-version = "1.0"\n'
                                          '# edited'))
    check = pyve("build", "--check")
    assert check.returncode != 0 and "pylock.toml changed outside pyve" in check.output
    assert "--frozen: pylock.toml changed outside pyve" in pyve("build", "--frozen").stderr
    pyve("build", check=True)
    assert pylock.read_text() == pylock_text and lock.read_text() == text


def test_a_lock_without_its_digest_is_installed_then_rewritten(project: Path,
                                                               pyve: PyveRunner) -> None:
    """A lock written by an older pyve has no content digest: --frozen installs it as it is
    (a teammate's real lock), doctor names it, and the next `build` rewrites it once."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    lock = project / LOCK
    text = lock.read_text()
    old = "".join(ln for ln in text.splitlines(keepends=True)
                  if not ln.startswith(("# pyve-content: ", "# pyve-pylock: ")))
    lock.write_text(old)
    pyve("build", "--frozen", check=True)
    assert lock.read_text() == old
    doctor = pyve("doctor")
    assert "has no content digest" in doctor.stdout, doctor.stdout
    check = pyve("build", "--check")
    assert check.returncode != 0 and "has no content digest" in check.output
    pyve("build", check=True)
    assert lock.read_text() == text
    assert "Nothing to do" in pyve("build", check=True).stdout


def test_a_lock_replaced_by_another_file_is_named_and_kept(project: Path,
                                                            pyve: PyveRunner) -> None:
    """Without pyve's header the file is not pyve's: stale and named, and `build` refuses to
    overwrite it in one line (never undo a user's work)."""
    (project / "requirements.txt").write_text("beta\n")
    pyve("init", "--auto-install-deps", check=True)
    (project / LOCK).write_bytes(b"\x00\x01 garbage\n")
    check = pyve("build", "--check")
    assert check.returncode != 0 and f"{LOCK} changed outside pyve" in check.output
    build = pyve("build")
    errors = [ln for ln in build.stderr.splitlines() if ln.startswith("error:")]
    assert build.returncode == 1 and len(errors) == 1 and "not written by pyve" in errors[0]
    assert (project / LOCK).read_bytes() == b"\x00\x01 garbage\n"
