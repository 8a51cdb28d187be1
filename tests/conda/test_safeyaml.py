"""safeyaml: libyaml for plain documents, the bounded pure-Python loader for the rest, and
the same answer either way."""

from __future__ import annotations

import pytest
import yaml

from pyve.backends.conda import safeyaml

LOCK_LIKE = """\
version: 1
metadata:
  content_hash: {linux-64: abc}
  channels: [{url: conda-forge, used_env_vars: []}]
  platforms: [linux-64]
package:
""" + "".join(f"""\
- name: pkg{i}
  version: '1.{i}'
  manager: conda
  platform: linux-64
  dependencies: {{python: '>=3.8'}}
  url: https://conda.anaconda.org/conda-forge/noarch/pkg{i}-1.{i}-0.tar.bz2
  hash: {{md5: '{i:032x}', sha256: '{i:064x}'}}
  optional: false
  category: main
""" for i in range(50))


def test_a_plain_document_is_loaded_by_libyaml_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    assert safeyaml._is_plain(LOCK_LIKE)
    fast = safeyaml.load(LOCK_LIKE)
    monkeypatch.setattr(safeyaml, "_is_plain", lambda text: False)
    assert safeyaml.load(LOCK_LIKE) == fast == yaml.safe_load(LOCK_LIKE)


@pytest.mark.parametrize("text, why", [
    ("a: &x [1, 2]\nb: *x\n", "an alias"),
    ("[" * 101 + "]" * 101, "nesting past the bound"),
    ("a: [1,\n", "a syntax error (PyYAML's own wording)"),
])
def test_anything_else_takes_the_bounded_path(text: str, why: str) -> None:
    assert not safeyaml._is_plain(text), why


def test_the_bounds_hold() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(8))
    with pytest.raises(safeyaml.DocumentTooLarge, match="aliases expand it"):
        safeyaml.load(laughs)
    with pytest.raises(safeyaml.DocumentTooLarge, match="nested more than 100"):
        safeyaml.load("[" * 5000 + "]" * 5000)
    assert safeyaml.load("a: &x [1]\nb: *x\n") == {"a": [1], "b": [1]}  # a small alias: fine
