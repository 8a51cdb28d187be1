"""The edits of `pyve add`/`pyve remove`, byte for byte: every other byte of the file stays
(comments, order, quoting, blank lines, CRLF, a missing final newline)."""

from __future__ import annotations

import pytest

from pyve.errors import UsageError
from pyve.manifest import envyml, pyproject, requirements
from pyve.manifest.pyproject import Place


@pytest.mark.parametrize(("before", "spec", "after"), [
    ("alpha\n", "beta>=1", "alpha\nbeta>=1\n"),
    ("alpha\r\n# c\r\n", "beta", "alpha\r\n# c\r\nbeta\r\n"),
    ("alpha", "beta", "alpha\nbeta"),  # no final newline: still none
    ("", "beta", "beta\n"),
    ("Alpha==1  # pinned\nbeta\n", "alpha>=2", "alpha>=2  # pinned\nbeta\n"),  # in place
])
def test_requirements_add(before: str, spec: str, after: str) -> None:
    assert requirements.add(before, spec) == after


@pytest.mark.parametrize(("before", "name", "after"), [
    ("alpha\nbeta\n", "beta", "alpha\n"),
    ("alpha\r\nbeta\r\ngamma", "beta", "alpha\r\ngamma"),
    ("alpha\nbeta", "beta", "alpha"),
    ("a\nhttpx==0.28.1 \\\n    --hash=sha256:00\n    # via -r r.in\nb\n", "httpx", "a\nb\n"),
    ("-r base.txt\nFoo_Bar[x]>=1 ; python_version>'3'\n", "foo-bar", "-r base.txt\n"),
])
def test_requirements_remove(before: str, name: str, after: str) -> None:
    assert requirements.remove(before, name) == after


PYPROJECT = ('[project]\nname = "x"  # the name\ndependencies = [\n    \'alpha\',  # why\n'
             '    "beta>=1",\n]\n\n# tools\n[tool.x]\ny = 1')


def test_pyproject_add_and_remove_keep_the_rest() -> None:
    added = pyproject.add(PYPROJECT, Place(), "gamma>=0.1")
    assert added == PYPROJECT.replace('"beta>=1",\n', '"beta>=1",\n    "gamma>=0.1",\n')
    assert pyproject.remove(added, Place(), "gamma") == PYPROJECT
    assert pyproject.remove(PYPROJECT, Place(), "alpha") == PYPROJECT.replace(
        "    'alpha',  # why\n", "")
    crlf = PYPROJECT.replace("\n", "\r\n")
    assert pyproject.add(crlf, Place(group="dev"), "pytest") == \
        crlf + '\r\n[dependency-groups]\r\ndev = ["pytest"]\r\n'


def test_pyproject_extra_table_goes_after_project() -> None:
    added = pyproject.add(PYPROJECT, Place(extra="test"), "pytest")
    # the comment above [tool.x] stays above it
    assert added == PYPROJECT.replace(
        "]\n\n# tools", ']\n\n[project.optional-dependencies]\ntest = ["pytest"]\n\n# tools')
    assert pyproject.names(added, Place(extra="test")) == {"pytest": "pytest"}
    alone = '[project]\nname = "x"\n'
    assert pyproject.add(alone, Place(extra="dev"), "a") == \
        alone + '\n[project.optional-dependencies]\ndev = ["a"]\n'


def test_pyproject_dynamic_dependencies_are_refused() -> None:
    with pytest.raises(UsageError, match="dynamic"):
        pyproject.add('[project]\nname = "x"\ndynamic = ["dependencies"]\n', Place(), "a")


ENV = ("name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11  # c\n"
       "  - 'numpy'\n  - pip:\n      - requests\n# end")


def test_envyml_conda_spec_follows_the_last_one_quoted_alike() -> None:
    added = envyml.add(ENV, "scipy>=1", pip=False)
    assert added == ENV.replace("  - 'numpy'\n", "  - 'numpy'\n  - 'scipy>=1'\n")
    assert envyml.remove(added, "scipy", pip=False) == ENV
    assert envyml.add(ENV, "numpy>=2", pip=False) == ENV.replace("'numpy'", "'numpy>=2'")


def test_envyml_pip_section() -> None:
    added = envyml.add(ENV, "httpx", pip=True)
    # pip: lines need pip in the env: it is added as a conda spec when missing
    assert added == ENV.replace("  - pip:\n      - requests\n",
                                "  - 'pip'\n  - pip:\n      - requests\n      - httpx\n")
    assert envyml.remove(ENV, "requests", pip=True) == ENV.replace(
        "  - pip:\n      - requests\n", "")


def test_envyml_new_pip_section_crlf_no_final_newline() -> None:
    text = "channels:\r\n- conda-forge\r\ndependencies:\r\n- python\r\n- pip"
    added = envyml.add(text, "httpx", pip=True)
    assert added == text + "\r\n- pip:\r\n    - httpx"
    assert envyml.remove(added, "httpx", pip=True) == text


def test_envyml_without_dependencies_and_inline_lists() -> None:
    assert envyml.add("name: x\n", "bar", pip=False) == "name: x\ndependencies:\n  - bar\n"
    with pytest.raises(UsageError, match="inline"):
        envyml.add("dependencies: [python, pip]\n", "bar", pip=False)


def test_a_spec_with_a_line_break_is_refused() -> None:
    """`pyve add $'idna\\nsix'` wrote two lines (an injected requirement): one spec is one
    line."""
    from pyve.manifest import Target, name_of

    with pytest.raises(UsageError) as info:
        name_of(Target("requirements.txt"), "idna\nsix")
    assert "is not one requirement" in info.value.message
