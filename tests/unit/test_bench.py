"""bench/: the real requirement sets are pinned requirement files, and the script starts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import PyveRunner

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("name,count", [("small", 8), ("medium", 56), ("large", 184)])
def test_sets_are_pinned_requirements(name: str, count: int) -> None:
    text = (BENCH / "sets" / f"{name}.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == count
    for line in lines:
        specs = list(Requirement(line).specifier)
        assert len(specs) == 1 and specs[0].operator == "==", line


def test_help_names_the_modes() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "bench.py"), "--help"],
                          capture_output=True, text=True, check=True)
    assert all(mode in done.stdout for mode in ("core", "real", "conda", "forge"))


def test_one_stage_row_runs_one_stage(project: Path, pyve: PyveRunner) -> None:
    """The bench's "build running one stage" row times a full build that runs exactly one
    stage (and the stage it names), not a no-op and not a rebuild."""
    spec = importlib.util.spec_from_file_location("pyve_bench_script", BENCH / "bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))  # its `timing` module, as when run as a script
    try:
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(BENCH))
    (project / "requirements.txt").write_text("gamma\n")
    pyve("init", "--auto-install-deps", check=True)
    bench.one_stage(project)
    done = pyve("build", check=True)
    assert f"{bench.ONE_STAGE} " in done.stdout and "ran" in done.stdout
    assert "Ran 1 of" in done.stdout


def _forge_scale():  # bench/ is a script folder, not a package
    sys.path.insert(0, str(BENCH))
    try:
        import conda_forge_scale
    finally:
        sys.path.remove(str(BENCH))
    return conda_forge_scale


def test_forge_channel_holds_the_records_it_says(tmp_path: Path) -> None:
    """The generated records are metadata only, in both subdirs, named apart from the real
    packages (which stay, with their archives), and the counter reads them all."""
    import json

    forge = _forge_scale()
    base = tmp_path / "base"
    for subdir, name in (("linux-64", "real-1.0-0.tar.bz2"), ("noarch", "other-1.0-0.tar.bz2")):
        (base / subdir).mkdir(parents=True)
        (base / subdir / name).write_bytes(b"archive")
        (base / subdir / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": subdir}, "packages": {name: {"name": name.split("-")[0]}},
             "packages.conda": {}}))
    chan = forge.build_channel(tmp_path / "cache", base, 600)
    records, size = forge.records_in(chan)
    assert records == 600 + 2 and size > 600 * 200
    linux = json.loads((chan / "linux-64" / "repodata.json").read_text())["packages"]
    noarch = json.loads((chan / "noarch" / "repodata.json").read_text())["packages"]
    assert "real-1.0-0.tar.bz2" in linux and "other-1.0-0.tar.bz2" in noarch
    assert (chan / "linux-64" / "real-1.0-0.tar.bz2").read_bytes() == b"archive"
    assert sorted(p.name for p in chan.rglob("*.tar.bz2")) == [
        "other-1.0-0.tar.bz2", "real-1.0-0.tar.bz2"]  # no archive behind generated records
    generated = [r for f, r in {**linux, **noarch}.items() if "real" not in f and "other" not in f]
    assert len({r["name"] for r in generated}) >= 600 // 12
    assert not any(r["name"].startswith("sc") or r["name"] == "python" for r in generated)
    assert max(len(r["depends"]) for r in generated) >= 8  # a fan-out, not a flat list
    assert all(len(r["sha256"]) == 64 and len(r["md5"]) == 32 for r in generated)


def test_forge_measures_the_peak_memory_of_that_one_command(tmp_path: Path) -> None:
    """The reading is the command's own: a child that holds ~200 MB reads >= 200 MB, and one
    that holds nothing reads far less, also while the bench itself holds ~300 MB (a forked
    child's own rusage would start from that)."""
    forge = _forge_scale()
    held = bytearray(300 * 2**20)
    held[::4096] = b"x" * len(held[::4096])
    big = [sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    _seconds, peak = forge.measured(big, tmp_path, dict(os.environ))
    assert peak >= 200 * 2**20
    _seconds, small = forge.measured([sys.executable, "-c", "pass"], tmp_path, dict(os.environ))
    assert small < 100 * 2**20
    del held


def test_forge_reports_a_failing_command(tmp_path: Path) -> None:
    forge = _forge_scale()
    with pytest.raises(SystemExit, match="failed"):
        forge.measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, dict(os.environ))


def test_summary_says_which_targets_hold_and_tables_every_row() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import timing
    finally:
        sys.path.remove(str(BENCH))
    rows = [("cold build", 1.2, 1.0, "<= 1.3x"), ("one line", 0.9, 0.3, "<= 1.5x"),
            ("activation", 0.037, 0.01, "< 50 ms"), ("shell-hook slow", 0.06, 0.01, "< 50 ms"),
            ("reference", 0.2, 0.1, "(for reference)"), ("warm", 0.25, 0.25, "<= 1.0x")]
    assert [timing.held(a, b, t) for _, a, b, t in rows] == [True, False, True, False, None,
                                                              True]
    text = timing.summary(rows)
    assert text.splitlines()[0] == "targets: 3 met, 2 not met"
    assert "  not met: one line" in text and "  not met: shell-hook slow" in text
    assert "| one line | 900.0 ms | 300.0 ms | 3.00x | <= 1.5x | **not met** |" in text
    assert "| reference | 200.0 ms | 100.0 ms | 2.00x | (for reference) |  |" in text
