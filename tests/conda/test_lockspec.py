"""pyve's content_hash must equal conda-lock's own for the same environment.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyve.backends.conda.envfile import load_envfile
from pyve.backends.conda.lockspec import content_hash

PLATFORMS = ["linux-64", "osx-64", "osx-arm64", "win-64", "linux-aarch64", "linux-ppc64le"]

CONDA_SPECS = [
    "python=3.11", "numpy>=1.24", "numpy>=1.24,<2.0", "conda-forge::numpy", "pkg=1.2=build",
    "pkg[version='>=1.2']", "numpy 1.2 py_0", "numpy ==1.2", "pip", "foo-py >=1", "numpy=1.2.*",
    "numpy 1.24.*", "numpy[build=py*]", "numpy=1.2|1.4", "/tmp/ch::libfoo",
    "file:///tmp/ch::libfoo", "NumPy", "numpy >=1.2 , <2", "numpy=1.2.3", "numpy==1.2.3",
    "numpy 1.2", "numpy=1.2=*", "numpy>1!2.0", "numpy 2.*,>=2.1", "python>=3.11|<2",
    "numpy *", "numpy=1.2*", "https://conda.anaconda.org/conda-forge::numpy",
]
PIP_LINES = [
    "alpha", "alpha>=1.0", "Beta_Pkg[x,a]==1.0", "gamma>=1,<2", "delta~=1.2",
    "eps ; sys_platform == 'linux'", "eps2; os_name == 'nt' or platform_system == 'Darwin'",
    "zeta @ https://example.com/zeta-1.0.tar.gz#sha256=abc", "-e .", "eta!=1.5",
]


def conda_lock_hashes(env_path: Path, mapping: Path) -> dict[str, str]:
    """The oracle: the lock spec as conda-lock's CLI builds it (`make_lock_spec`, which
    aggregates duplicate dependencies) and its hash with the default virtual packages.
    tests/interop/test_interop_conda_lock.py runs the CLI itself on pyve's locks."""
    from conda_lock.content_hash import compute_content_hashes
    from conda_lock.src_parser import make_lock_spec
    from conda_lock.virtual_package import default_virtual_package_repodata

    spec = make_lock_spec(src_files=[env_path], platform_overrides=PLATFORMS,
                          mapping_url=str(mapping))
    return compute_content_hashes(spec, default_virtual_package_repodata())


def assert_same_hashes(tmp_path: Path, text: str) -> None:
    env_path = tmp_path / "environment.yml"
    env_path.write_text(text)
    mapping = tmp_path / "mapping.json"  # local name map: conda-lock must not go online
    mapping.write_text("{}")
    expected = conda_lock_hashes(env_path, mapping)
    envfile = load_envfile(env_path)
    assert {p: content_hash(envfile, p) for p in PLATFORMS} == expected


@pytest.mark.parametrize("spec", CONDA_SPECS)
def test_conda_spec_hash_matches_conda_lock(tmp_path: Path, spec: str) -> None:
    quoted = f'"{spec}"' if "'" in spec else f"'{spec}'"
    text = f"channels:\n  - conda-forge\n  - nodefaults\ndependencies:\n  - {quoted}\n"
    assert_same_hashes(tmp_path, text)


@pytest.mark.parametrize("line", PIP_LINES)
def test_pip_line_hash_matches_conda_lock(tmp_path: Path, line: str) -> None:
    text = ("channels: [file:///tmp/ch, conda-forge]\ndependencies:\n  - python=3.11\n"
            f'  - pip:\n    - "{line}"\n')
    assert_same_hashes(tmp_path, text)


@pytest.mark.parametrize("text", [
    "dependencies:\n  - pip\n  - python\n  - pip:\n    - alpha\n",
    "dependencies:\n  - python\n  - pip>=23\n  - pip:\n    - alpha\n",
    "dependencies:\n  - pip=23.2=py_0\n  - pip:\n    - alpha\n  - pip:\n    - beta\n",
    "dependencies:\n  - numpy\n  - python\n  - numpy>=1.24\n  - pip:\n    - alpha\n"
    "    - Alpha>=1\n",
    "dependencies:\n  - python\n  - pip: []\n",
    "dependencies:\n  - python\n  - pip:\n",
    "name: x\ncategory: dev\nchannels: [a, b]\ndependencies:\n  - zlib\n  - abc >=1\n  - pip:\n"
    "    - beta\n",
])
def test_whole_file_hash_matches_conda_lock(tmp_path: Path, text: str) -> None:
    assert_same_hashes(tmp_path, text)
