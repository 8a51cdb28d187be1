"""The remote cache against real stores on 127.0.0.1 (tests/support/remote_stores.py): a
build pushes its env, a second project at another path with empty caches and no index pulls
it, and whatever goes wrong with the store or the download leaves a build that builds."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

from tests.conftest import PyveRunner, Result, linux_only
from tests.support.conda_helpers import python_env
from tests.support.helpers import stage_line
from tests.support.remote_stores import S3_SECRET, RemoteStore

FILES = ("requirements.txt", "requirements.lock.txt", "pylock.toml")


def _remote(store: RemoteStore, **extra: str) -> dict[str, str]:
    return {**store.env, "PYVE_REMOTE_CACHE": store.url, **extra}


def _first(project: Path, pyve: PyveRunner, store: RemoteStore, **extra: str) -> Result:
    (project / "requirements.txt").write_text("beta\n")
    return pyve("build", "-y", env=_remote(store, **extra), check=True)


def _elsewhere(tmp_path: Path, project: Path, name: str = "other") -> tuple[Path, dict[str, str]]:
    """A clone of the project at another (longer) path, with its own empty HOME and caches,
    and no wheels to install from: only the remote cache can give it its env."""
    other = tmp_path / name / "checkout" / "deeper"
    other.mkdir(parents=True)
    for file in FILES:
        if (project / file).exists():
            shutil.copy(project / file, other / file)
    home = tmp_path / f"{name}-home"
    (home / "nothing").mkdir(parents=True)
    return other, {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                   "PIP_CACHE_DIR": str(home / ".cache" / "pip"),
                   "UV_CACHE_DIR": str(home / ".cache" / "uv"),
                   "PIP_FIND_LINKS": str(home / "nothing")}


def test_pull_into_another_path_restores_a_working_env(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    first = _first(project, pyve, remote_store)
    assert "pushed the env to the remote cache" in first.stdout
    assert len(remote_store.keys()) == 1
    other, isolated = _elsewhere(tmp_path, project)
    env = _remote(remote_store, **isolated)
    result = pyve("build", "-y", env=env, cwd=other, check=True)
    line = stage_line(result.stdout, "create-env")
    assert "restored" in line and f"(remote cache {remote_store.url})" in line, result.output
    assert "restored" in stage_line(result.stdout, "pip-deps")
    assert "pushed" not in result.output  # a hit is not pushed again
    ran = pyve("run", "python", "-c", "import alpha, beta, sys; print(sys.prefix)",
               env=env, cwd=other, check=True)
    assert ran.stdout.strip() == str(other / ".venv")
    pip = subprocess.run([other / ".venv" / "bin" / "pip", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert str(other / ".venv") in pip  # its shebang names the new place
    doctor = pyve("doctor", "--deep", env=env, cwd=other)
    assert doctor.returncode == 0 and "Everything looks right" in doctor.stdout, doctor.output
    again = pyve("build", env=env, cwd=other, check=True)
    assert "Nothing to do" in again.stdout


def test_same_inputs_share_one_key(tmp_path: Path, project: Path, pyve: PyveRunner,
                                   remote_store: RemoteStore) -> None:
    _first(project, pyve, remote_store)
    other, isolated = _elsewhere(tmp_path, project)
    a = pyve("cache", "info", env=_remote(remote_store), check=True).stdout
    b = pyve("cache", "info", env=_remote(remote_store, **isolated), cwd=other, check=True).stdout
    key = remote_store.keys()[0]
    assert f"key {key} (stored)" in a and f"key {key} (stored)" in b


def _tampered(tmp_path: Path, project: Path, pyve: PyveRunner, store: RemoteStore,
              damage: bytes) -> Result:
    _first(project, pyve, store)
    key = store.keys()[0]
    store.write(key, "env.tar.gz", damage(store.read(key, "env.tar.gz")))  # type: ignore
    other, isolated = _elsewhere(tmp_path, project)
    del isolated["PIP_FIND_LINKS"]  # the wheels are there: the build can build
    return pyve("build", "-y", env=_remote(store, **isolated), cwd=other)


def test_a_tampered_artifact_is_refused_and_built(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    def flip(data: bytes) -> bytes:
        return data[:100] + bytes([data[100] ^ 1]) + data[101:]

    result = _tampered(tmp_path, project, pyve, remote_store, flip)  # type: ignore[arg-type]
    assert result.returncode == 0, result.output
    assert "remote cache entry refused: part env.tar.gz does not match its manifest's sha256;" \
        " building locally" in result.stdout
    assert "ran" in stage_line(result.stdout, "create-env")
    assert "Traceback" not in result.output


def test_a_truncated_upload_is_refused_and_built(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    result = _tampered(tmp_path, project, pyve, remote_store,  # type: ignore[arg-type]
                       lambda data: data[: len(data) // 2])
    assert result.returncode == 0, result.output
    assert "truncated upload?" in result.stdout and "building locally" in result.stdout
    assert "ran" in stage_line(result.stdout, "pip-deps")


def test_an_entry_without_its_manifest_is_a_miss(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    _first(project, pyve, remote_store)
    key = remote_store.keys()[0]
    remote_store.delete(key, "manifest.json")  # a push that died before its last file
    other, isolated = _elsewhere(tmp_path, project)
    del isolated["PIP_FIND_LINKS"]
    result = pyve("build", "-y", env=_remote(remote_store, **isolated), cwd=other, check=True)
    assert "ran" in stage_line(result.stdout, "create-env")
    assert "refused" not in result.output and "unreachable" not in result.output


def test_the_store_down_builds_locally_in_one_line(
        project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    (project / "requirements.txt").write_text("beta\n")
    result = pyve("build", "-y", env={"PYVE_REMOTE_CACHE": remote_store.url,
                                      **remote_store.down_env})
    assert result.returncode == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "remote cache" in ln]
    assert lines and lines[0].startswith("remote cache unreachable: ")
    assert lines[0].endswith("; building locally")
    assert "Traceback" not in result.output and S3_SECRET not in result.output
    assert "ran" in stage_line(result.stdout, "pip-deps")
    assert S3_SECRET not in "".join(p.read_text(errors="replace")
                                    for p in (project / ".pyve").rglob("*") if p.is_file())


def test_push_disabled_pulls_but_never_writes(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    result = _first(project, pyve, remote_store, PYVE_REMOTE_CACHE_PUSH="0")
    assert "pushed" not in result.output
    assert remote_store.keys() == []
    (project / "pyve.toml").write_text("remote_cache_push = false\n", encoding="utf-8")
    pyve("build", "--force", "-y", env=_remote(remote_store), check=True)
    assert remote_store.keys() == []


def test_remote_cache_from_pyve_toml_and_empty_variable_disables(
        project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    (project / "pyve.toml").write_text(f'remote_cache = "{remote_store.url}"\n',
                                       encoding="utf-8")
    (project / "requirements.txt").write_text("beta\n")
    pyve("build", "-y", env={**remote_store.env, "PYVE_REMOTE_CACHE": ""}, check=True)
    assert remote_store.keys() == []
    result = pyve("build", "--force", "-y", env=remote_store.env, check=True)
    assert "pushed" in result.stdout and len(remote_store.keys()) == 1


def test_two_pushes_of_one_key_at_once_both_succeed(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for where in (a, b):
        where.mkdir()
        (where / "requirements.txt").write_text("beta\n")
    results: dict[str, Result] = {}

    def build(where: Path) -> None:
        results[where.name] = pyve("build", "-y", env=_remote(remote_store), cwd=where)

    threads = [threading.Thread(target=build, args=(w,)) for w in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results.values():
        assert result.returncode == 0 and "pushed the env" in result.stdout, result.output
    assert len(remote_store.keys()) == 1
    other, isolated = _elsewhere(tmp_path, a)
    pulled = pyve("build", "-y", env=_remote(remote_store, **isolated), cwd=other, check=True)
    assert "restored" in stage_line(pulled.stdout, "create-env")


def test_cache_push_and_pull_by_hand(tmp_path: Path, project: Path, pyve: PyveRunner,
                                     remote_store: RemoteStore) -> None:
    (project / "requirements.txt").write_text("beta\n")
    pyve("build", "-y", check=True)  # no remote cache during the build
    pushed = pyve("cache", "push", env=_remote(remote_store), check=True)
    assert "pushed the env" in pushed.stdout and len(remote_store.keys()) == 1
    other, isolated = _elsewhere(tmp_path, project)
    env = _remote(remote_store, **isolated)
    pulled = pyve("cache", "pull", env=env, cwd=other, check=True)
    assert "restored" in pulled.stdout
    again = pyve("build", "-y", env=env, cwd=other, check=True).stdout
    for stage in ("create-env", "pip-deps"):
        assert "ran" not in stage_line(again, stage)


@linux_only
def test_a_conda_env_pulled_into_another_path_works(
        tmp_path: Path, project: Path, pyve: PyveRunner, remote_store: RemoteStore,
        local_channel: Path) -> None:
    python_env(project, local_channel, pip=[])
    first = pyve("build", "-y", env=_remote(remote_store), check=True)
    assert "pushed the env to the remote cache" in first.stdout, first.output
    other, isolated = _elsewhere(tmp_path, project)
    for file in ("environment.yml", "conda-lock.yml"):
        shutil.copy(project / file, other / file)
    # an empty package cache: only the remote cache can give the env without the channel
    env = _remote(remote_store, **isolated, PYVE_CACHE_DIR=str(tmp_path / "empty-pkgs"))
    assert pyve("fingerprint", env=env, cwd=other, check=True).stdout == \
        pyve("fingerprint", env=env, check=True).stdout  # built here, not yet there
    result = pyve("build", "-y", env=env, cwd=other, check=True)
    assert "restored" in stage_line(result.stdout, "create-env"), result.output
    assert not list((tmp_path / "empty-pkgs").rglob("*.conda"))  # nothing fetched
    ran = pyve("run", "python", "-c", "import sys; print(sys.prefix)", env=env, cwd=other,
               check=True)
    assert ran.stdout.strip().startswith(str(other / ".pyve" / "envs"))
    doctor = pyve("doctor", "--deep", env=env, cwd=other)
    assert doctor.returncode == 0 and "Everything looks right" in doctor.stdout, doctor.output
    assert "Nothing to do" in pyve("build", env=env, cwd=other, check=True).stdout
