"""Docs and completion come from the one argparse definition: they cannot drift."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_commands_md_is_generated_and_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        "docs/commands.md is out of date: run `python tools/gen_docs.py`\n" + done.stderr)


def test_commands_md_names_every_subcommand_and_flag() -> None:
    from pyve.cli import build_parser
    from pyve.clidoc import describe

    text = (ROOT / "docs" / "commands.md").read_text()
    _, commands = describe(build_parser())
    for command in commands:
        assert f"## pyve {command.name}" in text
        for option in command.options:
            for flag in option.flags:
                assert f"`{flag}`" in text


def _completion(shell: str) -> str:
    return subprocess.run([sys.executable, "-m", "pyve", "completion", shell],
                          capture_output=True, text=True, check=True).stdout


def test_bash_completion_valid_and_offers_subcommands(tmp_path: Path) -> None:
    script = tmp_path / "pyve.bash"
    script.write_text(_completion("bash"))
    subprocess.run(["bash", "-n", str(script)], check=True)
    probe = f"""
source {script}
comp() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMPREPLY=(); _pyve
         echo "${{COMPREPLY[*]}}"; }}
comp pyve ""
comp pyve do
comp pyve init --ba
comp pyve init --backend ""
comp pyve -C /tmp shell-h
comp pyve shell-hook --shell ""
comp pyve cache ""
"""
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert {"init", "build", "doctor", "shell-hook", "completion", "--init"} <= set(out[0].split())
    assert out[1:] == ["doctor", "--backend", "venv micromamba auto", "shell-hook",
                       "bash zsh fish", "-h --help -y --yes clean info push pull"]


def test_zsh_completion_loads(tmp_path: Path) -> None:
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed")
    script = tmp_path / "_pyve"
    script.write_text(_completion("zsh"))
    subprocess.run(["zsh", "-n", str(script)], check=True)
    code = (f"autoload -U compinit; compinit -u -d {tmp_path}/zcd; source {script}; "
            "print -r -- ${_comps[pyve]}")
    done = subprocess.run(["zsh", "-f", "-c", code], capture_output=True, text=True,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=True)
    assert done.stdout.strip() == "_pyve", done.stderr


def test_ci_cache_paths_are_where_the_installers_keep_their_caches(tmp_path: Path) -> None:
    """docs/ci.md's cache step holds uv's cache (the default installer) and pip's, at the
    places uv and pip use on a runner (HOME set, no XDG_CACHE_HOME, no UV_CACHE_DIR)."""
    import re

    import uv

    text = (ROOT / "docs" / "ci.md").read_text()
    block = re.search(r"path: \|\n((?:\s+\S+\n)+)", text)
    assert block, "no cache paths in docs/ci.md"
    listed = {line.strip() for line in block.group(1).splitlines()}
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    uv_cache = subprocess.run([uv.find_uv_bin(), "cache", "dir"], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
    pip_cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], env=env,
                               check=True, capture_output=True, text=True).stdout.strip()
    for found in (uv_cache, pip_cache):
        assert "~/" + str(Path(found).relative_to(tmp_path)) in listed, (found, listed)


def test_architecture_names_every_module() -> None:
    """docs/architecture.md's table is the map of modules: each file of src/pyve is named in
    it (by its path, or by a `folder/*.py` line), and each path it names exists."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/*]+\.py)`", text))
    package = ROOT / "src" / "pyve"
    files = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
             if p.name != "__init__.py"}  # a package is named by its folder
    globbed = {f for pattern in named if "*" in pattern
               for f in (p.relative_to(package).as_posix() for p in package.glob(pattern))}
    missing = sorted(f for f in files - globbed
                     if f not in named and f.rsplit("/", 1)[-1] not in named)
    assert missing == [], f"docs/architecture.md does not name {missing}"
    gone = sorted(n for n in named if "*" not in n and not (package / n).exists()
                  and not (ROOT / n).exists()  # a test or tool the text points at
                  and not any(f.endswith("/" + n) or f == n for f in files))
    assert gone == [], f"docs/architecture.md names files that do not exist: {gone}"
