"""Spec spellings the solver must take as conda does (environment.yml validates them too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.engines import rattler as engine


@pytest.mark.parametrize("specs", [
    ["bar=0.4=0", "libfoo=2.0=h0_0"],  # `micromamba env export` / `conda env export` pins
    ["bar 0.4 0"],
    ["bar=0.4", "foo-py==1.5"],
])
def test_solve_takes_exported_pins(local_channel: Path, specs: list[str]) -> None:
    records = engine.solve([str(local_channel)], specs, "linux-64")
    assert {r.name.normalized: str(r.version) for r in records} == \
        {"bar": "0.4", "foo-py": "1.5", "libfoo": "2.0"}
