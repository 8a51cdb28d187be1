"""pyve.installers.distinfo: the headers of METADATA, as importlib.metadata reads them."""

from __future__ import annotations

from importlib.metadata import PathDistribution
from pathlib import Path

import pytest

from pyve.installers import distinfo

HEADERS = ("Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.2.post3\n"
           "Summary: a summary\n  folded onto a second line\n"
           "Requires-Dist: six>=1\nRequires-Dist: tomli; python_version < '3.11'\n"
           "Requires-Dist: rich; extra == 'cli'\nProvides-Extra: cli\n")
# the body may look like headers: only those before the first blank line count
BODY = "\nRequires-Dist: not-a-dependency\nVersion: 9\n\n" + "long description\n" * 2000


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("file", ["METADATA", "PKG-INFO"])
def test_same_name_version_and_requirements_as_importlib(tmp_path: Path, newline: str,
                                                         file: str) -> None:
    info = tmp_path / ("foo_bar-1.2.post3.dist-info" if file == "METADATA"
                       else "foo_bar-1.2.post3.egg-info")
    info.mkdir()
    (info / file).write_bytes((HEADERS + BODY).replace("\n", newline).encode())
    dist = PathDistribution(info)
    meta = distinfo.headers(dist)
    assert meta["Name"] == dist.metadata["Name"] == "Foo.Bar"
    assert meta["Version"] == dist.version == "1.2.post3"
    assert meta.get_all("Requires-Dist") == dist.requires == [
        "six>=1", "tomli; python_version < '3.11'", "rich; extra == 'cli'"]


def test_a_single_file_egg_info_and_a_missing_one(tmp_path: Path) -> None:
    egg = tmp_path / "old-1.0.egg-info"
    egg.write_text("Metadata-Version: 1.1\nName: old\nVersion: 1.0\n")
    assert distinfo.headers(PathDistribution(egg))["Name"] == "old"
    empty = tmp_path / "gone-1.0.dist-info"
    empty.mkdir()
    assert distinfo.headers(PathDistribution(empty))["Name"] is None
