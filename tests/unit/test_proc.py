"""A failing pip or uv: the error line carries the part of its output that explains the
failure (outputs below are pip 23.2/25 and uv 0.13's own), and the hint fits the failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.installers.pip import failure_hint
from pyve.proc import last_error_line

PIP_CONFLICT = """\
Processing ./wh/zed-1.0-py3-none-any.whl (from -r conflict.txt (line 2))
INFO: pip is looking at multiple versions of zed to determine which version is compatible.
ERROR: Cannot install -r conflict.txt (line 2) and alpha==1.0 because these package versions \
have conflicting dependencies.

The conflict is caused by:
    The user requested alpha==1.0
    zed 1.0 depends on alpha>=2

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""

PIP_BUILD = """\
Processing ./b2
  Preparing metadata (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error

  × Preparing metadata (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [4 lines of output]
      Traceback (most recent call last):
        File "/tmp/b2/_b/failing.py", line 6, in prepare_metadata_for_build_wheel
          raise RuntimeError("compiler not found: gcc")
      RuntimeError: compiler not found: gcc
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: metadata-generation-failed

× Encountered error while generating package metadata.
╰─> See above for output.

note: This is an issue with the package mentioned above, not pip.
"""

UV_HASH = """\
Resolved 1 package in 8ms
error: Failed to download `gamma==0.1`
  cause: Hash mismatch for `gamma==0.1`

         Expected:
           sha256:0000000000000000000000000000000000000000000000000000000000000000

         Computed:
           sha256:fee07b7ce558e58c94e0ca89d6ebd46758aa41b926521215a6a1e57bee6e5e5c
"""

UV_BUILD = """\
   Building b2 @ file:///tmp/b2
error: Failed to build `b2 @ file:///tmp/b2`
  cause: The build backend returned an error
  cause: Call to `failing.build_wheel` failed (exit status: 1)

         [stderr]
         Traceback (most recent call last):
           File "/tmp/b2/_b/failing.py", line 2, in build_wheel
             raise RuntimeError("compiler not found: gcc")
         RuntimeError: compiler not found: gcc

hint: Build failures usually indicate a problem with the package or the build environment
"""

UV_CONFLICT = """\
error: No solution found when resolving dependencies
  cause: Because all versions of zed depend on alpha>=2 and you require alpha==1.0, we can \
conclude that your requirements and all versions of zed are incompatible.
         And because you require zed, we can conclude that your requirements are \
unsatisfiable.
"""

INDEX = "(PIP_INDEX_URL, PIP_FIND_LINKS)"


@pytest.mark.parametrize(("output", "shown", "hint_has", "hint_lacks"), [
    (PIP_CONFLICT, ["The conflict is caused by: The user requested alpha==1.0; "
                    "zed 1.0 depends on alpha>=2"], "contradict", INDEX),
    (UV_CONFLICT, ["No solution found", "zed depend on alpha>=2"], "contradict", INDEX),
    (PIP_BUILD, ["building ./b2 failed", "RuntimeError: compiler not found: gcc"],
     "failed to build", INDEX),
    (UV_BUILD, ["Failed to build `b2", "RuntimeError: compiler not found: gcc"],
     "failed to build", INDEX),
    (UV_HASH, ["Hash mismatch for `gamma==0.1`", "expected sha256:0000",
               "got sha256:fee07b7c"], "differs from the locked one", INDEX),
])
def test_the_explaining_part_and_a_fitting_hint(output: str, shown: list[str], hint_has: str,
                                                hint_lacks: str) -> None:
    line = last_error_line(output)
    assert "\n" not in line
    for part in shown:
        assert part in line, line
    hint = failure_hint(line)
    assert hint_has in hint and hint_lacks not in hint and "-v" in hint


def test_a_missing_package_keeps_the_index_hint() -> None:
    line = last_error_line("ERROR: Could not find a version that satisfies the requirement "
                           "nosuch (from versions: none)\n"
                           "ERROR: No matching distribution found for nosuch\n")
    assert line == "ERROR: No matching distribution found for nosuch"
    assert INDEX in failure_hint(line)


UV_PARSE_ECHO = """\
error: Error parsing included file in `requirements.txt` at position 5
  cause: Couldn't parse requirement in `/proc/self/environ` at position 0
  cause: no such comparison operator "=", must be one of ~= == != <= >= < > ===
         MY_TOKEN=xSHELL=/bin/bashHOME=/root
                 ^^^^^^^^^^^^^^^^^^^^^^^^^^
"""


def test_uv_echo_of_the_file_it_could_not_parse_is_left_out() -> None:
    """uv repeats the text it failed to parse (here an environment dump) with a caret line
    under it: that is the file's content, never part of pyve's error line."""
    line = last_error_line(UV_PARSE_ECHO)
    assert "/proc/self/environ" in line and "comparison operator" in line, line
    assert "MY_TOKEN" not in line and "SHELL" not in line and "^" not in line, line


def test_the_line_is_capped() -> None:
    assert len(last_error_line("ERROR: " + "x" * 5000)) <= 600


def test_lines_reach_the_callback_while_the_command_runs(tmp_path: Path) -> None:
    """proc.run streams: each line reaches on_line before the command ends (the live line
    follows pip as it goes), and a failure is still explained from the whole output."""
    import sys

    from pyve import proc
    from pyve.errors import PyveError

    gate = tmp_path / "go"
    script = ("import os, sys, time\nprint('Collecting alpha', flush=True)\n"
              f"while not os.path.exists({str(gate)!r}): time.sleep(0.01)\n"
              "print('ERROR: No matching distribution found for alpha')\nsys.exit(1)\n")
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        if line == "Collecting alpha":
            gate.write_text("")  # the command waits for this: it runs on only if streamed
        raise RuntimeError("a display bug never fails the command's run")

    with pytest.raises(PyveError) as caught:
        proc.run([sys.executable, "-c", script], what="pip install", on_line=on_line)
    assert seen == ["Collecting alpha", "ERROR: No matching distribution found for alpha"]
    assert caught.value.message == ("pip install failed: ERROR: No matching distribution "
                                    "found for alpha")
    assert proc.run([sys.executable, "-c", "print('a\\nb')"]) == "a\nb\n"  # the whole text


PIP_GIT_CLONE = """\
  Running command git clone --filter=blob:none --quiet https://github.com/x/y.git /tmp/pip-req
  fatal: unable to access 'https://github.com/x/y.git/': Could not resolve host: github.com
  error: subprocess-exited-with-error
  × git clone --filter=blob:none --quiet https://github.com/x/y.git /tmp/pip-req did not run \
successfully.
  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error
"""
UV_CRATES = """\
  × Failed to build `pydantic-core==2.41.5`
  ├─▶ The build backend returned an error
  ╰─▶ Call to `maturin.build_wheel` failed (exit status: 1)
      [stderr]
      error: failed to get `pyo3` as a dependency of package `pydantic-core v2.41.5`
      Caused by:
        failed to download from `https://index.crates.io/config.json`
      Caused by:
        [6] Couldn't resolve host name (Could not resolve host: index.crates.io)
"""


@pytest.mark.parametrize("output", [PIP_GIT_CLONE, UV_CRATES], ids=["git-clone", "crates-io"])
def test_an_unreachable_server_is_a_network_problem(output: str) -> None:
    hint = failure_hint(last_error_line(output), output)
    assert "network" in hint and "compiler" not in hint, hint
