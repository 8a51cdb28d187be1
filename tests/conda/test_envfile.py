"""environment.yml parsing: accepted forms, one-line errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.backends.conda.envfile import (
    check_platforms,
    env_hash,
    load_envfile,
    matchspec_problem,
    parse_envfile,
)
from pyve.errors import PyveError

VALID_SPECS = ["python=3.11", "numpy>=1.24", "numpy>=1.24,<2.0", "conda-forge::numpy",
               "pkg=1.2=build", "pkg[version='>=1.2']", "numpy 1.2 py_0", "numpy=1.2|1.4",
               "/tmp/ch::libfoo", "numpy[build=py*]", "python 3.11.*", "numpy 2023a"]
INVALID_SPECS = ["nump y", "numpy>>1", "", "a b c d", "x="]


@pytest.mark.parametrize("spec", VALID_SPECS)
def test_valid_conda_specs(spec: str) -> None:
    assert matchspec_problem(spec) is None


@pytest.mark.parametrize("spec", INVALID_SPECS)
def test_invalid_conda_specs(spec: str) -> None:
    assert matchspec_problem(spec)


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(
        "name: demo\nchannels:\n  - conda-forge\n  - nodefaults\nplatforms: [linux-64]\n"
        "variables:\n  FOO: 1\ndependencies:\n  - python=3.11\n  - \"numpy>=1.24,<2.0\"\n"
        "  - pip:\n    - alpha>=1\n    - -r requirements.txt\n    - -e .\n"
        "    - --index-url https://example.com/simple\n")
    env = load_envfile(path)
    assert env.name == "demo" and env.channels == ["conda-forge"]
    assert env.conda_specs == ["python=3.11", "numpy>=1.24,<2.0", "pip"]
    assert env.implied_pip and env.pip_section
    assert env.pip_specs == ["alpha>=1", "-r requirements.txt", "-e .",
                             "--index-url https://example.com/simple"]
    assert env.variables == {"FOO": "1"} and env.platforms == ["linux-64"]


def test_explicit_pip_not_duplicated() -> None:
    env = parse_envfile("dependencies:\n  - pip >=23\n  - pip:\n    - alpha\n")
    assert env.conda_specs == ["pip >=23"] and not env.implied_pip


@pytest.mark.parametrize(("text", "message"), [
    ("dependencies:\n - a\n  - b: [\n", "environment.yml:3: invalid YAML: "),
    ("name: x\n", "environment.yml: 'dependencies' is missing or empty"),
    ("dependencies: []\n", "environment.yml: 'dependencies' is missing or empty"),
    ("dependencies:\n  - numpy\n  - nump y\n",
     "environment.yml:3: invalid conda spec 'nump y': bad version 'y'"),
    ("dependencies:\n  - numpy>>1\n",
     "environment.yml:2: invalid conda spec 'numpy>>1': unable to parse version spec: >>1"),
    ("dependencies:\n  - pip:\n    - 'alpha>>1'\n",
     "environment.yml:3: invalid pip requirement 'alpha>>1': "),
    ("dependencies:\n  - conda:\n    - x\n", "environment.yml: unsupported dependency section"),
    ("- a\n- b\n", "environment.yml: expected a mapping"),
])
def test_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(PyveError) as info:
        parse_envfile(text, Path("/some/dir/environment.yml"))
    assert info.value.message.startswith(message)
    assert "\n" not in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PyveError, match=r"environment\.yml: cannot read"):
        load_envfile(tmp_path / "environment.yml")


def test_env_hash_is_stable_and_order_independent() -> None:
    one = env_hash(["c"], ["a", "b"], "linux-64")
    assert one == env_hash(["c"], ["b", "a"], "linux-64")
    assert len(one) == 16 and int(one, 16) >= 0
    assert one != env_hash(["c"], ["a", "b"], "osx-64")
    assert one != env_hash(["d"], ["a", "b"], "linux-64")


def test_platform_names_are_checked_with_rattlers_subdir_not_the_deprecated_platform() -> None:
    """py-rattler 0.28 deprecates `Platform` for `Subdir`: checking names warns nothing."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_platforms(["linux-64", "osx-arm64"], "environment.yml") == [
            "linux-64", "osx-arm64"]
        with pytest.raises(PyveError, match="'bogus-99' is not a conda platform"):
            check_platforms(["bogus-99"], "environment.yml")
        with pytest.raises(PyveError, match="'noarch' is not a conda platform"):
            check_platforms(["noarch"], "environment.yml")
