"""pip's and uv's own output lines (pip 23.2 and uv 0.13 off a terminal, copied from real
runs) become the few words of the live line; lines that tell nothing new say nothing."""

from __future__ import annotations

from pyve.installers.activity import InstallerActivity

PIP = """\
Looking in indexes: https://pypi.org/simple
Collecting flask
  Downloading flask-3.1.3-py3-none-any.whl (103 kB)
Collecting numpy==2.1.3
  Downloading numpy-2.1.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (16.3 MB)
     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 16.3/16.3 MB 76.2 MB/s eta 0:00:00
Requirement already satisfied: click>=8.1.3 in ./.venv/lib/python3.11/site-packages (8.1.7)
Processing ./slow
  Installing build dependencies: started
Building wheels for collected packages: tiny
  Building wheel for tiny (pyproject.toml): started
Installing collected packages: itsdangerous, blinker, werkzeug, numpy, markupsafe, jinja2, tiny
Successfully installed blinker-1.9.0 flask-3.1.3 itsdangerous-2.2.0 jinja2-3.1.6
"""

UV = """\
Using Python 3.11.7 environment at: v2
Resolved 8 packages in 474ms
Downloading numpy (15.6MiB)
 Downloaded numpy
Prepared 8 packages in 470ms
Installed 8 packages in 37ms
 + blinker==1.9.0
"""


def said(output: str) -> list[str]:
    phrases: list[str] = []
    feed = InstallerActivity(phrases.append)
    for line in output.splitlines():
        feed(line)
    return phrases


def test_pip_lines() -> None:
    assert said(PIP) == [
        "collecting flask (1 so far)",
        "downloading flask 3.1.3 (103 kB)",
        "collecting numpy==2.1.3 (2 so far)",
        "downloading numpy 2.1.3 (16.3 MB)",
        "downloaded numpy 2.1.3 (16.3/16.3 MB, 76.2 MB/s)",  # pip's bar, once it is done
        "checking click>=8.1.3",
        "collecting slow (3 so far)",
        "building tiny",
        "installing 7 packages: itsdangerous, blinker, werkzeug, numpy, ...",
        "installed 4 packages",
    ]


def test_uv_lines() -> None:
    assert said(UV) == ["resolved 8 packages", "downloading numpy (15.6MiB)",
                        "downloaded numpy", "installing 8 packages", "installed 8 packages"]
