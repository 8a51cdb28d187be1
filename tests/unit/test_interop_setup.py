"""How the interop tests find the real micromamba: $PYVE_TEST_MICROMAMBA, else
../shared/tools/micromamba beside the checkout (a clone elsewhere names its own binary)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHOW = ("from tests.support import interop_helpers as h; "
        "skip = h.INTEROP[1]; print(h.MICROMAMBA); print(skip.args[0]); "
        "print(skip.kwargs['reason'])")


def _found(env_value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYVE_TEST_MICROMAMBA"}
    if env_value is not None:
        env["PYVE_TEST_MICROMAMBA"] = env_value
    out = subprocess.run([sys.executable, "-c", SHOW], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.splitlines()


def test_the_variable_names_the_binary(tmp_path: Path) -> None:
    binary = tmp_path / "elsewhere" / "micromamba"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    path, skipped, _reason = _found(str(binary))
    assert path == str(binary) and skipped == "False"
    path, skipped, reason = _found(str(tmp_path / "absent"))
    assert skipped == "True" and str(tmp_path / "absent") in reason
    assert "PYVE_TEST_MICROMAMBA" in reason  # the skip says how to run them


def test_without_it_the_shared_tools_folder() -> None:
    path, _skipped, _reason = _found(None)
    assert path == str(REPO.parent / "shared" / "tools" / "micromamba" / "bin" / "micromamba")
