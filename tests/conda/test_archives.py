"""A package's paths are checked before an engine sees them (archives.py): what counts as
leaving the environment, in each place a package lists its files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from pyve.backends.conda import archives
from pyve.errors import PyveError
from tests.support import conda_fixtures


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "..", "C:/x", "\\\\srv\\x"])
def test_escaping_paths(path: str) -> None:
    assert archives._escapes(path)


@pytest.mark.parametrize("path", ["bin/x", "a/../b", "lib/python3.11/site-packages/a:b.py",
                                  "share/..hidden"])
def test_paths_that_stay_inside(path: str) -> None:
    assert not archives._escapes(path)


def _old_style(archive: Path, files: bytes) -> None:
    """No info/paths.json; info/files as given."""
    with tarfile.open(archive, "r:bz2") as src:
        kept = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()
                if m.name not in ("info/paths.json", "info/files")]
    with tarfile.open(archive, "w:bz2") as dst:
        for member, data in kept:
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
        info = tarfile.TarInfo("info/files")
        info.size = len(files)
        dst.addfile(info, io.BytesIO(files))


def test_good_packages_pass_in_both_formats_and_old_style(tmp_path: Path) -> None:
    archive = conda_fixtures.build_package(tmp_path, "noarch", "ok", "1.0", noarch="generic",
                                           symlinks={"bin/ok": "../share/ok/1.0.txt",
                                                     "bin/sys": "/usr/bin/env"})
    archives.check([(archive.name, archive, None)])
    conda = conda_fixtures.to_conda_format(archive)
    archives.check([(conda.name, conda, None)])
    old = conda_fixtures.build_package(tmp_path, "noarch", "old", "1.0", noarch="generic")
    _old_style(old, b"share/old/1.0.txt\n")
    archives.check([(old.name, old, None)])
    _old_style(old, b"share/old/1.0.txt\n/etc/profile\n")
    with pytest.raises(PyveError, match="old-1.0-0.tar.bz2 is malformed: .* /etc/profile"):
        archives.check([(old.name, old, None)])


def test_an_extracted_copy_is_read_when_the_archive_is_remote(tmp_path: Path) -> None:
    extracted = tmp_path / "pkgs" / "ok-1.0-0"
    (extracted / "info").mkdir(parents=True)
    (extracted / "info" / "paths.json").write_text(json.dumps({"paths": [{"_path": "bin/x"}]}))
    archives.check([("ok-1.0-0.conda", None, extracted)])
    (extracted / "info" / "paths.json").write_text(json.dumps({"paths": [{"_path": "/x"}]}))
    with pytest.raises(PyveError, match="ok-1.0-0.conda is malformed: .*: /x"):
        archives.check([("ok-1.0-0.conda", None, extracted)])
    (extracted / "info" / "paths.json").write_text("{")
    with pytest.raises(PyveError, match="cannot read its list of files"):
        archives.check([("ok-1.0-0.conda", None, extracted)])
    archives.check([("gone-1.0-0.conda", None, tmp_path / "pkgs" / "gone-1.0-0")])  # not read
