"""piplock: a re-lock reads an extra index's pages only for the pins an earlier build of the
env has not read for the same indexes; the lock's install replaces only what is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.backends.venv import piplock
from pyve.installers import simpleindex

A = "a" * 64
B = "b" * 64
C = "c" * 64


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (index, name) pages read; each index lists one file per name, version 1.0."""
    read: list[tuple[str, str]] = []
    files = {"https://main/simple": {"alpha": A, "beta": B},
             "https://extra/simple": {"alpha": C, "beta": C}}

    def project_files(index: str, name: str, env: object, timeout: float = 30.0
                      ) -> list[tuple[str, str, str]]:
        read.append((index, name))
        digest = files[index].get(name)
        tag = "main" if "main" in index else "extra"
        return [(f"{name}-1.0-py3-none-{tag}.whl", digest, "")] if digest else []

    monkeypatch.setattr(simpleindex, "project_files", project_files)
    return read


def _env(extra: str = "https://extra/simple") -> dict[str, str]:
    return {"UV_INDEX_URL": "https://main/simple", "UV_EXTRA_INDEX_URL": extra}


def _venv(tmp_path: Path) -> Path:
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    return python


def test_second_lock_reads_only_new_pins(tmp_path: Path, pages: list[tuple[str, str]]
                                         ) -> None:
    python = _venv(tmp_path)
    first = piplock._index_hashes([("alpha==1.0", [f"sha256:{A}"])], _env(), python)
    assert first == {("alpha", "1.0"): [f"sha256:{A}", f"sha256:{C}"]}
    assert sorted(pages) == [("https://extra/simple", "alpha"), ("https://main/simple", "alpha")]
    pages.clear()
    again = piplock._index_hashes([("alpha==1.0", [f"sha256:{A}"]),
                                   ("beta==1.0", [f"sha256:{B}"])], _env(), python)
    assert {name for _index, name in pages} == {"beta"}  # alpha's pages were read already
    assert again[("alpha", "1.0")] == [f"sha256:{A}", f"sha256:{C}"]
    assert again[("beta", "1.0")] == [f"sha256:{B}", f"sha256:{C}"]


def test_new_file_on_first_index_or_other_indexes_read_again(
        tmp_path: Path, pages: list[tuple[str, str]]) -> None:
    python = _venv(tmp_path)
    piplock._index_hashes([("alpha==1.0", [f"sha256:{A}"])], _env(), python)
    pages.clear()
    # uv now sees a file the earlier pages did not list: the pages are read again
    piplock._index_hashes([("alpha==1.0", [f"sha256:{A}", f"sha256:{B}"])], _env(), python)
    assert {name for _index, name in pages} == {"alpha"}
    pages.clear()
    # other indexes (the same two, the other first): nothing of the cache holds
    piplock._index_hashes([("alpha==1.0", [f"sha256:{A}"])],
                          {"UV_INDEX_URL": "https://extra/simple",
                           "UV_EXTRA_INDEX_URL": "https://main/simple"}, python)
    assert {name for _index, name in pages} == {"alpha"}


def test_cache_names_indexes_by_digest_only(tmp_path: Path, pages: list[tuple[str, str]]
                                            ) -> None:
    python = _venv(tmp_path)
    env = {"UV_INDEX_URL": "https://main/simple",
           "UV_EXTRA_INDEX_URL": "https://extra/simple"}
    piplock._index_hashes([("alpha==1.0", [f"sha256:{A}"])], env, python)
    text = (tmp_path / ".venv" / piplock.INDEX_HASHES).read_text()
    assert "https://" not in text  # an index URL may carry a password


class _Recorder:
    name = "uv"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def install_locked(self, python: Path, requirements: Path, cwd: Path, what: str,
                       hashes: dict[str, list[str]], replace: tuple[str, ...] = (),
                       reread: bool = False) -> None:
        self.calls.append((requirements.read_text(), replace))
        self.reread = reread


def test_install_replaces_only_what_is_installed(tmp_path: Path) -> None:
    entries = piplock.parse_entries([f"alpha==1.0 --hash=sha256:{A}",
                                     f"beta==2.0 --hash=sha256:{B}",
                                     f"gamma==3.0 --hash=sha256:{C}"], "lock")
    alpha, beta, gamma = entries
    recorder = _Recorder()
    piplock._install_locked(tmp_path / "python", tmp_path, recorder,  # type: ignore[arg-type]
                            [(alpha, piplock.NOT_INSTALLED),
                             (beta, "1.0 installed, 2.0 locked"),
                             (gamma, piplock.NOT_LISTED)])
    (text, replace), = recorder.calls
    assert "alpha==1.0" in text and "beta==2.0" in text and "gamma==3.0" in text
    assert replace == ("beta", "gamma")  # alpha is missing: nothing to replace
