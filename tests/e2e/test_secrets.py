"""Secrets the user's files carry never reach pyve's output or its state files in the clear,
and pyve's files that hold user input are private (0600)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import python_env

PASSWORD = "hunter2pw"
INDEX = f"--extra-index-url http://bob:{PASSWORD}@127.0.0.1:9/simple"


def _files_holding(root: Path, text: str) -> list[str]:
    return [str(p.relative_to(root)) for p in (root / ".pyve").rglob("*")
            if p.is_file() and "/envs/" not in f"/{p.relative_to(root / '.pyve')}"
            and text.encode() in p.read_bytes()]


@linux_only
def test_index_password_is_not_printed_or_stored(project: Path, pyve: PyveRunner,
                                                 local_channel: Path) -> None:
    python_env(project, local_channel, pip=[INDEX, "beta"])
    result = pyve("-v", "build")
    assert result.returncode == 0, result.output
    assert "--extra-index-url http://bob:****@127.0.0.1:9/simple" in result.stdout
    assert PASSWORD not in result.output
    assert _files_holding(project, PASSWORD) == []
    assert stat.S_IMODE((project / ".pyve" / "state.json").stat().st_mode) == 0o600
    (solution,) = (project / ".pyve" / "envs").glob("*.solution.json")
    assert stat.S_IMODE(solution.stat().st_mode) == 0o600

    # the digest still follows the password: a new one re-runs the pip stage
    assert "Nothing to do" in pyve("build").stdout
    python_env(project, local_channel, pip=[INDEX.replace(PASSWORD, "newpass99"), "beta"])
    again = pyve("build")
    assert again.returncode == 0 and "pip-deps    ran" in again.stdout, again.output
    assert "newpass99" not in again.output and _files_holding(project, "newpass99") == []


def test_state_files_are_private(project: Path, pyve: PyveRunner) -> None:
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    (project / "requirements.txt").write_text("beta\n")
    assert pyve("build").returncode == 0
    for name in ("state.json", "fast.json"):  # stage settings; variables and PYVE_* settings
        mode = stat.S_IMODE((project / ".pyve" / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_requirements_reading_proc_environ_does_not_print_it(project: Path,
                                                             pyve: PyveRunner) -> None:
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = true\n')
    (project / "requirements.txt").write_text("beta\n-r /proc/self/environ\n")
    result = pyve("build", env={"MY_TOKEN": "ghp_verysecret123", "OTHER_VAR": "visible42"})
    assert result.returncode == 1, result.output
    assert "ghp_verysecret123" not in result.output and "visible42" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "/proc/self/environ" in errors[0], result.output
    # pyve refuses the file itself (a NUL byte: no requirements file has one) and quotes
    # nothing of it; whatever any line quotes is a short excerpt
    from pyve.redact import MAX_EXCERPT, MAX_LINE

    assert "has a NUL byte" in errors[0], errors[0]
    quoted = re.findall(r"'([^']*)'", errors[0])
    assert all(len(q) <= MAX_EXCERPT for q in quoted), errors[0]
    assert len(errors[0]) <= len("error: ") + MAX_LINE, errors[0]


def _holding(root: Path, text: str) -> list[str]:
    """Every file under `root` (the project, its env and conda-meta included) holding `text`."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink() and text.encode() in p.read_bytes())


@linux_only
def test_channel_credentials_are_not_written_into_the_lock_or_the_env(
        project: Path, pyve: PyveRunner, local_channel: Path, tmp_path: Path,
        sandbox_env: dict[str, str]) -> None:
    """A channel URL with credentials (`http://carol:PW@host/channel`) was written verbatim
    into conda-lock.yml (0644, committed), the solution file and conda-meta. Those hold the
    URLs without them (conda-lock masks the password in its package URLs); the credentials
    stay in environment.yml, which the user wrote, and are used only to fetch (the channel
    refuses requests without them). A build from the lock alone then fetches with
    credentials the user keeps elsewhere (here: ~/.netrc), as rattler reads them."""
    import shutil

    from tests.support.conda_helpers import envfile_text, served_over_http

    served = tmp_path / "served"
    shutil.copytree(local_channel, served / "chan")
    with served_over_http(served, auth=("carol", PASSWORD)) as server:
        host = str(server).removeprefix("http://")
        (project / "environment.yml").write_text(envfile_text(
            f"http://carol:{PASSWORD}@{host}/chan", ["python", "bar", "pip"],
            pip=["beta"], platforms=["linux-64"]))
        result = pyve("build")
        assert result.returncode == 0, result.output
        assert PASSWORD not in result.output
        assert _holding(project, PASSWORD) == ["environment.yml"]
        lock = (project / "conda-lock.yml").read_text()
        assert f"http://{host}/chan" in lock and "carol" not in lock
        assert "Nothing to do" in pyve("build").stdout
        doctor = pyve("doctor")
        assert "environment matches conda-lock.yml" in doctor.stdout, doctor.output
        # the lock alone (a teammate's clone): credentials from ~/.netrc
        (project / "environment.yml").unlink()
        shutil.rmtree(project / ".pyve")
        assert pyve("build").returncode == 1  # no credentials: the channel says 401
        home = Path(sandbox_env["HOME"])
        (home / ".netrc").write_text(f"machine 127.0.0.1 login carol password {PASSWORD}\n")
        (home / ".netrc").chmod(0o600)
        result = pyve("build", "--frozen")
        assert result.returncode == 0, result.output
        assert _holding(project, PASSWORD) == []
