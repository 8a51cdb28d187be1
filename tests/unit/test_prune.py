"""pyve.backends.prune: which names the sources ask for, and what is never removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyve.installers import prune


def names(tmp_path: Path, text: str, **files: str) -> set[str] | None:
    (tmp_path / "requirements.txt").write_text(text)
    for name, content in files.items():
        (tmp_path / name.replace("__", ".")).write_text(content)
    return prune.requirement_names(tmp_path, ["requirements.txt"])


def test_requirement_lines(tmp_path: Path) -> None:
    text = ("# comment\n"
            "Foo_Bar[extra]>=1.0 ; python_version >= '3.8'  # why\n"
            "baz==2 --hash=sha256:abc \\\n    --hash=sha256:def\n"
            "--index-url https://example.invalid/simple\n"
            "-c constraints.txt\n"
            "-r more.txt\n"
            "--requirement=other.txt\n")
    found = names(tmp_path, text, more__txt="qux\n-r requirements.txt\n", other__txt="zed\n",
                  constraints__txt="notinstalled==1\n")
    assert found == {"foo-bar", "baz", "qux", "zed"}


def test_unnamed_requirements_give_none(tmp_path: Path) -> None:
    assert names(tmp_path, "-e ./src/lib\n") is None
    assert names(tmp_path, "./dist/thing-1.0-py3-none-any.whl\n") is None
    assert names(tmp_path, "-r missing.txt\n") is None
    assert names(tmp_path, "foo @ https://example.invalid/foo.whl\n") == {"foo"}


def test_pyproject_names_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My.Project"\n')
    assert prune.requirement_names(tmp_path, ["pyproject.toml"]) == {"my-project"}
    (tmp_path / "pyproject.toml").write_text('[project]\ndynamic = ["name"]\n')
    assert prune.requirement_names(tmp_path, ["pyproject.toml"]) is None


def fake_dist(env: Path, name: str, installer: str, requires: tuple[str, ...] = ()) -> str:
    info = env / "lib/python3.11/site-packages" / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
                                   + "".join(f"Requires-Dist: {r}\n" for r in requires))
    (info / "INSTALLER").write_text(installer + "\n")
    return info.relative_to(env).as_posix()


def test_only_what_pip_or_uv_installed_is_removed(tmp_path: Path) -> None:
    """Removal candidates that pip did not install, pip's tools and conda-owned packages
    (even with INSTALLER=pip) survive; what is still needed is recorded."""
    env = tmp_path / "env"
    fake_dist(env, "keepme", "pip", ("dep; python_version < '3'",))
    fake_dist(env, "dep", "pip")
    fake_dist(env, "setuptools", "pip")
    fake_dist(env, "handmade", "conda")
    owned = fake_dist(env, "condapkg", "pip")
    (env / "conda-meta").mkdir()
    (env / "conda-meta/condapkg-1.0-0.json").write_text(
        json.dumps({"name": "condapkg", "files": [owned + "/METADATA"]}))
    (env / prune.NEEDED_FILE).write_text(json.dumps(["setuptools", "handmade", "condapkg"]))
    python = env / "bin" / "python"
    assert prune.sync(python, tmp_path, {"keepme"}) == []  # nothing removable: no pip run
    assert json.loads((env / prune.NEEDED_FILE).read_text()) == ["dep", "keepme"]
    assert prune.sync(python, tmp_path, None) == []
    assert not (env / prune.NEEDED_FILE).exists()  # unknown roots: never remove later


def test_by_hand_is_what_no_source_needed(tmp_path: Path) -> None:
    """Installed by hand: pip or uv installed it, and neither the sources now (closure of the
    roots) nor the last install (NEEDED_FILE: a removed line's package, pruned next) need
    it; pip's tools and conda's packages never count, and unknown roots name nothing."""
    env = tmp_path / "env"
    fake_dist(env, "wanted", "uv", ("dep",))
    fake_dist(env, "dep", "uv")
    fake_dist(env, "leftover", "uv")  # needed by the last install: sync's to remove
    fake_dist(env, "ipdb", "pip", ("ipython",))
    fake_dist(env, "ipython", "pip")
    fake_dist(env, "pip", "pip")
    fake_dist(env, "numpy", "conda")
    (env / prune.NEEDED_FILE).write_text(json.dumps(["wanted", "dep", "leftover"]))
    python = env / "bin" / "python"
    kept = prune.by_hand(python, {"wanted"})
    assert kept == {"ipdb": "1.0", "ipython": "1.0"}
    assert prune.kept_roots(python, kept) == ["ipdb"]
    assert prune.by_hand(python, None) == {}
    # what a root names only behind an extra nobody asked for, or a false marker, is not
    # needed (ipython 9 brings psutil, which attrs lists under its `tests` extra)
    fake_dist(env, "attrs", "uv", ("psutil; extra == 'tests'", "old; python_version < '3'"))
    fake_dist(env, "psutil", "pip")
    fake_dist(env, "old", "pip")
    assert set(prune.by_hand(python, {"wanted", "attrs"})) == {"ipdb", "ipython", "psutil",
                                                                "old"}
    assert "psutil" not in prune.by_hand(python, {"wanted", "attrs"}, {"attrs": {"tests"}})
    assert prune.kept_line(kept, ["ipdb"], "requirements.txt") == (
        "kept ipdb 1.0 (and 1 package it needs): installed by hand, not in requirements.txt; "
        "`pyve add ipdb` keeps it for good, `pyve build --exact` removes it")


@pytest.mark.parametrize(("text", "name"), [
    ("foo", "foo"), ("Foo_Bar[x]>=1", "foo-bar"), ("zope.interface >= 5", "zope-interface"),
    ("foo (>=1.0)", "foo"), ('foo;python_version<"3"', "foo"), ("foo @ https://x/y.whl", "foo"),
    ("./x.whl", None), ("dist/x.whl", None), ("https://x/y.whl", None), ("C:\\x.whl", None),
])
def test_requirement_name(text: str, name: str | None) -> None:
    assert prune.requirement_name(text) == name
