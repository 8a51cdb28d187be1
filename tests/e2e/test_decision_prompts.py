"""Backend precedence (--backend > PYVE_BACKEND > pyve.toml > files), the "both kinds of
files" prompt and the pip-dependencies prompt, with every answer: y, n, Enter, end of input,
CI=1, --yes (and the flags that skip the prompt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyveRunner, write_tiny_project
from tests.support.helpers import ENV_YML, PROMPT, chose_micromamba, py, stage_line, status_json

PIP_PROMPT = "Install pip dependencies from requirements.txt? [Y/n]:"


def _files(project: Path, names: tuple[str, ...]) -> None:
    for name in names:
        if name == "environment.yml":
            (project / name).write_text(ENV_YML)
        elif name == "pyproject.toml":
            (project / name).write_text('[project]\nname = "x"\nversion = "0"\n')
        elif name == "conda-lock.yml":
            (project / name).write_text("version: 1\nmetadata: {}\npackage: []\n")
        else:
            (project / name).write_text("gamma\n")


def _decided(pyve: PyveRunner, project: Path, *args: str,
             env: dict[str, str] | None = None) -> tuple[str, str]:
    """(backend, reason) as `pyve status` reports it, building nothing."""
    data = status_json(pyve("status", "--json", *args, env=env))
    return str(data["backend"]), str(data["backend_reason"])


@pytest.mark.parametrize(("files", "backend", "reason"), [
    ((), "venv", "no project files found (default)"),
    (("requirements.txt",), "venv", "requirements.txt found"),
    (("pyproject.toml",), "venv", "pyproject.toml found"),
    (("environment.yml",), "micromamba", "environment.yml found"),
    (("conda-lock.yml",), "micromamba", "conda-lock.yml found"),
])
def test_backend_from_files(project: Path, pyve: PyveRunner, files: tuple[str, ...],
                            backend: str, reason: str) -> None:
    _files(project, files)
    got, why = _decided(pyve, project)
    assert got == backend
    assert why in ("", reason)
    assert not (project / ".pyve").exists()  # status only reads


@pytest.mark.parametrize(("files", "toml", "env", "args", "backend", "reason"), [
    (("environment.yml",), "venv", None, (), "venv", "pyve.toml says venv"),
    (("requirements.txt",), "micromamba", None, (), "micromamba", "pyve.toml says micromamba"),
    (("environment.yml",), "micromamba", "venv", (), "venv", "PYVE_BACKEND says venv"),
    (("requirements.txt",), "venv", "micromamba", ("--backend", "venv"), "venv",
     "--backend says venv"),
    (("requirements.txt",), None, "micromamba", ("--backend", "VENV"), "venv",
     "--backend says venv"),
    (("requirements.txt",), None, "venv", ("--backend", "conda"), "micromamba",
     "--backend says micromamba"),
    # auto: decide from the files, whatever PYVE_BACKEND or pyve.toml say
    (("requirements.txt",), "micromamba", None, ("--backend", "auto"), "venv",
     "requirements.txt found"),
    (("requirements.txt",), "micromamba", "auto", (), "venv", "requirements.txt found"),
    (("environment.yml", "requirements.txt"), "venv", None, ("--backend", "auto"),
     "micromamba", "both kinds of files found; default micromamba"),
])
def test_backend_precedence(project: Path, pyve: PyveRunner, files: tuple[str, ...],
                            toml: str | None, env: str | None, args: tuple[str, ...],
                            backend: str, reason: str) -> None:
    _files(project, files)
    if toml:
        (project / "pyve.toml").write_text(f'backend = "{toml}"\n')
    got, why = _decided(pyve, project, *args, env={"PYVE_BACKEND": env} if env else None)
    assert (got, why) in ((backend, reason), (backend, ""))


# -- the ambiguous-files prompt ------------------------------------------------------------

@pytest.fixture
def both(project: Path) -> Path:
    _files(project, ("environment.yml", "pyproject.toml"))
    return project


@pytest.mark.parametrize("answer", ["\n", "y\n", "Y\n", "yes\n", "", "maybe\ny\n"],
                         ids=["enter", "y", "Y", "yes", "end-of-input", "invalid-then-y"])
def test_prompt_micromamba_answers(both: Path, pyve: PyveRunner, answer: str) -> None:
    result = pyve("init", "--no-install-deps", input=answer)
    assert result.stdout.startswith(PROMPT), result.output
    assert chose_micromamba(result, both), result.output
    if answer.startswith("maybe"):
        assert "Please answer y or n." in result.stdout


def test_prompt_no_builds_venv_with_editable_project(project: Path, pyve: PyveRunner) -> None:
    """`n` -> venv; the pyproject.toml project is then installed with `pip install -e .`
    (after its own prompt), its dependency from the index included."""
    write_tiny_project(project)
    (project / "environment.yml").write_text(ENV_YML)
    result = pyve("init", input="n\n\n", check=True)
    assert result.stdout.startswith(PROMPT)
    assert "Install pip dependencies from pyproject.toml? [Y/n]:" in result.stdout
    assert "venv backend (you chose venv at the prompt)" in result.stdout
    assert " ran " in stage_line(result.stdout, "pip-deps")
    out = py(project, "import tiny, gamma; print(tiny.__file__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(project / "src" / "tiny.py")  # editable
    config = (project / "pyve.toml").read_text()
    assert 'backend = "venv"' in config and "install_deps = true" in config
    assert "gamma==0.1" in (project / "requirements.lock.txt").read_text()
    # recorded: the next build asks nothing
    again = pyve("build", input="", check=True)
    assert "[Y/n]" not in again.stdout and "Nothing to do" in again.stdout


def test_ci_chooses_micromamba_without_prompt(both: Path, pyve: PyveRunner) -> None:
    result = pyve("init", env={"CI": "1"}, input="n\n")
    assert "Initialize with micromamba backend?" not in result.stdout
    lines = [ln for ln in result.stdout.splitlines() if "without prompting" in ln]
    assert len(lines) == 1 and "micromamba" in lines[0], result.output
    assert chose_micromamba(result, both)


def test_empty_ci_still_prompts(both: Path, pyve: PyveRunner) -> None:
    result = pyve("init", "--no-install-deps", env={"CI": ""}, input="y\n")
    assert result.stdout.startswith(PROMPT)
    assert chose_micromamba(result, both)


def test_yes_chooses_micromamba_without_prompt(both: Path, pyve: PyveRunner) -> None:
    result = pyve("init", "--yes", input="n\n")
    assert "[Y/n]" not in result.stdout
    assert chose_micromamba(result, both), result.output


def test_backend_flag_skips_prompt(both: Path, pyve: PyveRunner) -> None:
    result = pyve("status", "--backend", "venv", "--json")
    assert status_json(result)["backend"] == "venv"
    result = pyve("init", "--backend", "micromamba", input="n\n")
    assert "Initialize with micromamba backend?" not in result.stdout
    assert chose_micromamba(result, both)


# -- the pip-dependencies prompt -------------------------------------------------------------

@pytest.mark.parametrize(("answer", "args", "env", "asked", "installed"), [
    ("y\n", (), {}, True, True),
    ("\n", (), {}, True, True),
    ("", (), {}, True, True),  # end of input: the default
    ("n\n", (), {}, True, False),
    ("n\n", ("--auto-install-deps",), {}, False, True),
    ("y\n", ("--no-install-deps",), {}, False, False),
    ("n\n", ("--yes",), {}, False, True),
    ("n\n", (), {"CI": "1"}, False, True),
], ids=["y", "enter", "end-of-input", "n", "auto-install-deps", "no-install-deps", "yes", "ci"])
def test_pip_prompt(project: Path, pyve: PyveRunner, answer: str, args: tuple[str, ...],
                    env: dict[str, str], asked: bool, installed: bool) -> None:
    (project / "requirements.txt").write_text("gamma\n")
    result = pyve("init", *args, input=answer, env=env, check=True)
    assert (PIP_PROMPT in result.stdout) == asked, result.stdout
    assert (py(project, "import gamma").returncode == 0) == installed
    assert ("install_deps = true" if installed else "install_deps = false") in (
        project / "pyve.toml").read_text()
    assert ("pip-deps" in result.stdout) == installed


# -- answers are remembered --------------------------------------------------------------

@pytest.mark.parametrize(("answer", "installed"), [("y\n", True), ("n\n", False)])
def test_builds_pip_answer_is_recorded_and_asked_once(project: Path, pyve: PyveRunner,
                                                      answer: str, installed: bool) -> None:
    """`pyve build` without init asks once; the answer goes into pyve.toml as init's does,
    added to the user's own lines; the next builds (full path, an input changed) ask
    nothing and do the same."""
    (project / "requirements.txt").write_text("gamma\n")
    (project / "pyve.toml").write_text('# my settings\nbackend = "venv"  # not conda\n')
    result = pyve("build", input=answer, check=True)
    assert PIP_PROMPT in result.stdout
    recorded = f"install_deps = {'true' if installed else 'false'}"
    assert f"Recorded your answer in pyve.toml ({recorded})" in result.stdout
    assert (project / "pyve.toml").read_text() == (
        f'# my settings\nbackend = "venv"  # not conda\n{recorded}\n')
    assert (py(project, "import gamma").returncode == 0) == installed
    (project / "requirements.txt").write_text("gamma\n# edited\n")
    again = pyve("build", input="y\n" if not installed else "n\n", check=True)
    assert "[Y/n]" not in again.stdout and "Recorded" not in again.stdout, again.stdout
    assert (py(project, "import gamma").returncode == 0) == installed


def test_n_never_empties_a_built_env(project: Path, pyve: PyveRunner) -> None:
    """A build made with --yes (nothing recorded in pyve.toml), then an interactive build:
    the last build's answer holds -- no question, and an `n` typed anyway recreates
    nothing (it emptied the env: create-env ran again without the packages)."""
    (project / "requirements.txt").write_text("gamma\n")
    pyve("build", "--yes", check=True)
    python = (project / ".venv" / "bin" / "python").stat().st_ino
    (project / "requirements.txt").write_text("gamma\n# edited\n")
    result = pyve("build", input="n\n", check=True)
    assert "[Y/n]" not in result.stdout, result.stdout
    assert "up to date" in stage_line(result.stdout, "create-env"), result.stdout
    assert py(project, "import gamma").returncode == 0
    assert (project / ".venv" / "bin" / "python").stat().st_ino == python
    # and `pyve run` (never asks) keeps a source a build declined: no rebuild either
    (project / "requirements.txt").write_text("gamma\n")
    pyve("build", "--no-install-deps", check=True)
    run = pyve("run", "python", "-c", "print('ok')", env={"PYVE_NO_FAST": "1"}, check=True)
    assert run.stdout.strip() == "ok" and " ran " not in run.stderr, run.output


def test_recorded_answer_beats_yes_and_ci(project: Path, pyve: PyveRunner) -> None:
    """pyve.toml's install_deps = false holds under --yes and CI, as the precedence says
    (flags > pyve.toml > --yes/CI > prompt): a fresh clone in CI builds the same env."""
    (project / "requirements.txt").write_text("gamma\n")
    (project / "pyve.toml").write_text('backend = "venv"\ninstall_deps = false\n')
    pyve("build", "--yes", env={"CI": "1"}, check=True)
    assert py(project, "import gamma").returncode != 0


def test_builds_backend_answer_is_recorded(both: Path, pyve: PyveRunner) -> None:
    """The "both kinds of files" question asked by `pyve build` is asked once too."""
    result = pyve("build", input="n\nn\n", check=True)
    assert result.stdout.startswith(PROMPT)
    assert 'Recorded your answer in pyve.toml (backend = "venv", install_deps = false)' in (
        result.stdout)
    again = pyve("build", "--dry-run", input="y\n")
    assert "[Y/n]" not in again.stdout and "venv backend (pyve.toml says venv)" in again.stdout
