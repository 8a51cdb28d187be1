"""Every environment.yml problem is one `error:` line naming the file (and the package or
channel) plus what to do; non-zero exit; no traceback; the previous env and lock intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyveRunner, linux_only
from tests.support.conda_helpers import (
    assert_one_error,
    env_dirs,
    envfile_text,
    snapshot,
)

pytestmark = linux_only


def good_text(channel: Path, case: str) -> str:
    if case == "pip-failure":
        return envfile_text(channel, ["python", "bar", "pip"], pip=["beta"],
                            platforms=["linux-64"])
    return envfile_text(channel, ["bar"], platforms=["linux-64"])  # fast: no python, no pip


def broken(channel: Path, good: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        ("yaml", f"channels: [{channel}]\ndependencies:\n  - python\n   - bar: [\n",
         ("environment.yml:4", "invalid YAML")),
        ("no-dependencies", f"channels: [{channel}]\nname: x\n",
         ("environment.yml", "'dependencies'")),
        ("invalid-spec", good.replace("  - bar\n", '  - bar\n  - "nump y"\n'),
         ("environment.yml", "nump y")),
        ("unreachable-channel", good.replace(str(channel), "file:///nonexistent/pyve-chan"),
         ("environment.yml", "file:///nonexistent/pyve-chan")),
        ("unsatisfiable", good.replace("  - bar\n", "  - bar\n  - needs-missing\n"),
         ("environment.yml", "needs-missing", "does-not-exist")),
        ("pip-failure", good.replace("    - beta\n", "    - beta\n    - nosuchpkg\n"),
         ("environment.yml", "nosuchpkg", "No matching distribution")),
    ]


@pytest.mark.parametrize("case", ["yaml", "no-dependencies", "invalid-spec",
                                  "unreachable-channel", "unsatisfiable", "pip-failure"])
def test_error_is_one_line_and_changes_nothing(project: Path, pyve: PyveRunner,
                                               local_channel: Path, case: str) -> None:
    good = good_text(local_channel, case)
    (project / "environment.yml").write_text(good)
    pyve("init", check=True)
    built = snapshot(project)
    _, text, needles = next(c for c in broken(local_channel, good) if c[0] == case)
    envs = env_dirs(project)
    (project / "environment.yml").write_text(text)
    result = pyve("build")
    assert_one_error(result, *needles)
    assert "hint:" in result.stderr  # what to do
    assert env_dirs(project) == envs
    after = snapshot(project)
    assert after == built, sorted(set(after.items()) ^ set(built.items()))
