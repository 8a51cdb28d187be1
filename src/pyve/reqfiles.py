"""Which files a pip install reads: a requirements file and everything it pulls in.

`pip install -r requirements.txt` also reads the files named by `-r`/`--requirement` and
`-c`/`--constraint` (recursively, each relative to the file that names it), and the metadata
of local projects named by `-e <path>` or a bare path (`pyproject.toml`, `setup.cfg`,
`setup.py`), with the requirements files their build backend fills `dependencies` and extras
from (setuptools' and hatch's dynamic metadata, buildmeta.py). A local project installed
without `-e` is built from its source files: each of them is an input too. Each of them
decides the environment, so each is an input of the stage that installs it: an edit to any
one makes that stage stale. This module is the one place that knows how to find them; the
stages declare what it returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyve import buildmeta
from pyve.errors import PyveError
from pyve.project import PROJECT_LOCKS
from pyve.redact import excerpt

# What pip reads of a local project to learn its name and dependencies.
PROJECT_METADATA = ("pyproject.toml", "setup.cfg", "setup.py")
MAX_DEPTH = 100  # -r/-c includes within includes; pip has no limit, but Python's stack has
# pip expands ${NAME} (upper-case letters, digits, _) from the environment in every line
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
INCLUDE_OPTIONS = {"-r": "requirement", "--requirement": "requirement",
                    "-c": "constraint", "--constraint": "constraint"}
EDITABLE_OPTIONS = ("-e", "--editable")


@dataclass(frozen=True)
class Line:
    """One logical line of a requirements file (continuations joined, comment removed)."""

    text: str
    number: int  # 1-based, where the logical line starts


def logical_lines(text: str) -> Iterator[Line]:
    """pip's reading of a requirements file: `\\` joins lines (with nothing between them, as
    pip's join_lines does: `-r sub/\\` + `x.txt` is `-r sub/x.txt`), ` #` starts a comment."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw.strip("\\")
            continue
        line = (pending + raw).strip()
        pending = ""
        if line.startswith("#"):
            continue
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if line:
            yield Line(line, start)
    if pending.strip():
        yield Line(pending.strip(), start)


def option_value(line: str, options: Iterable[str]) -> tuple[str, str] | None:
    """(option, value) when the line is `-r x`, `-rx`, `--requirement=x`, ... for one of
    `options`; None otherwise."""
    for option in options:
        if line == option:
            return None  # an option with no value: pip rejects it, and so will the install
        if line.startswith(option + " ") or line.startswith(option + "="):
            return option, line[len(option) + 1:].strip()
        if len(option) == 2 and line.startswith(option) and not line.startswith("--"):
            return option, line[2:].strip()  # -rfile
    return None


def expand(value: str, seen: dict[str, str | None] | None = None) -> str:
    """${NAME} as pip reads it: the variable's value, or the text as written when it is
    unset. `seen` collects the names and values read."""

    def value_of(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if seen is not None:
            seen[match.group(1)] = found
        return match.group(0) if found is None else found

    return _VARIABLE.sub(value_of, value)


def _local_dir(value: str, base: Path) -> Path | None:
    """The directory a requirement names, when it is a local path (not a name or a URL)."""
    value = value.split(";", 1)[0].strip()
    if value.startswith("file://"):
        value = value[len("file://"):]
    elif "://" in value or value.startswith(("git+", "hg+", "svn+", "bzr+")):
        return None
    elif not value.startswith((".", "/", "~")):
        return None  # a project name (`requests>=2`), or `name @ url`
    value = value.split("[", 1)[0].split("#", 1)[0]  # ./pkg[extra], #egg=
    try:
        path = (base / Path(value).expanduser()).resolve()
    except (RuntimeError, OSError, ValueError):  # `~nobody`, a symlink loop, a NUL byte
        return None  # not a folder pyve can find: the install names the problem
    return path if path.is_dir() else None


@dataclass
class Inputs:
    """The files found so far, in order, and the include chain being followed."""

    root: Path
    files: list[str]
    chain: list[Path]
    # the environment variables include paths named (${NAME}): inputs as much as the files
    variables: dict[str, str | None] = field(default_factory=dict)
    # a local project installed without -e: its folder (as declared) -> its source files,
    # and -> the environment marker of the line that names it ("" for none)
    trees: dict[str, list[str]] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)
    # every local project (the project itself, -e ./x, ./x): folder -> its name (None: unknown)
    projects: dict[str, str | None] = field(default_factory=dict)

    def add(self, path: Path) -> None:
        shown = relative(path, self.root)
        if shown not in self.files:
            self.files.append(shown)

    def add_project(self, directory: Path, built: bool = False, marker: str = "") -> None:
        """A local project's metadata and the requirements files it names; `built` (not
        editable): every source file a build of it reads."""
        for name in PROJECT_METADATA:
            if (directory / name).is_file():
                self.add(directory / name)
        self.projects[relative(directory, self.root)] = buildmeta.project_name(directory)
        data = buildmeta.load(directory / "pyproject.toml")
        for name, named_at in buildmeta.dynamic_files(data or {}):
            if named_at == buildmeta.DEFAULT_FILE and not (directory / name).exists():
                continue  # nothing named it, and there is none: the plugin reads nothing
            where = relative(directory / "pyproject.toml", self.root)
            _follow(self, directory / name, named_at.replace("pyproject.toml", where, 1))
        if built:
            folder = relative(directory, self.root)
            sources = [relative(p, self.root) for p in buildmeta.source_files(directory)]
            self.trees[folder] = sources
            self.markers[folder] = marker
            for shown in sources:
                if shown not in self.files:
                    self.files.append(shown)


def relative(path: Path, root: Path) -> str:
    """A path as a stage declares it: relative to the project root when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def files_of_lines(inputs: Inputs, lines: Iterable[Line], base: Path, where: str) -> None:
    """Follow the includes and local projects of `lines`, read from the folder `base`."""
    for line in lines:
        included = option_value(line.text, INCLUDE_OPTIONS)
        if included:
            option, value = included
            at = f"{where}, line {line.number}" if line.number else where
            named_at = f"{at} ({option} {excerpt(value)})"
            if "://" in value:  # pip fetches it; its content would change with no file edited
                raise PyveError(f"{named_at}: pyve does not read remote includes",
                                hint="download the file into the project and include that, "
                                     "so an edit to it is seen")
            value = expand(value, inputs.variables)
            _follow(inputs, base / value, named_at)
            continue
        editable = option_value(line.text, EDITABLE_OPTIONS)
        value = editable[1] if editable else line.text
        if value.startswith("-"):
            continue  # --index-url, -f, --hash ...: no file of the project's
        directory = _local_dir(value, base)
        if directory is not None:
            marker = value.split(";", 1)[1].strip() if ";" in value else ""
            inputs.add_project(directory, built=editable is None, marker=marker)


def _follow(inputs: Inputs, path: Path, named_at: str) -> None:
    if "\x00" in str(path):
        raise PyveError(f"{named_at}: the path has a NUL byte", hint="fix the -r/-c line")
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink that points at itself, or round in a loop
        raise PyveError(f"{named_at}: {relative(path, inputs.root)} is a symlink loop",
                        hint="point the symlink at a file, or include the file itself") from None
    if resolved in inputs.chain:
        cycle = " -> ".join(relative(p, inputs.root) for p in
                            [*inputs.chain[inputs.chain.index(resolved):], resolved])
        raise PyveError(f"requirements include cycle: {cycle} ({named_at})",
                        hint="remove one of the -r/-c lines that close the cycle")
    if len(inputs.chain) >= MAX_DEPTH:
        raise PyveError(f"{named_at}: includes nested more than {MAX_DEPTH} deep",
                        hint="include the files from fewer levels")
    if resolved.exists() and not resolved.is_file():
        # a FIFO or a device (/dev/zero): pip and uv would read it for ever, and reading it
        # here would consume it or block
        raise PyveError(f"{named_at}: {relative(resolved, inputs.root)} is not a regular file",
                        hint="include a requirements file")
    if not resolved.is_file():
        raise PyveError(f"{named_at}: included file {relative(resolved, inputs.root)} "
                        "not found", hint="fix the path (it is relative to the file that "
                        "names it), or create the file")
    inputs.add(resolved)
    text = read_text(resolved, inputs.root, shown=relative(path, inputs.root))
    inputs.chain.append(resolved)
    try:
        files_of_lines(inputs, logical_lines(text), resolved.parent,
                       relative(resolved, inputs.root))
    finally:
        inputs.chain.pop()


def read_text(path: Path, root: Path, shown: str | None = None) -> str:
    """A requirements file's text; `shown`: its name in errors (as the user wrote it, not
    where its symlinks lead: /proc/self/environ, not /proc/1234/environ)."""
    shown = shown or relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
        if "\x00" in text:  # /proc/self/cmdline, a binary: no requirements file has one
            line = text[:text.index("\x00")].count("\n") + 1
            raise PyveError(f"{shown}: line {line} has a NUL byte: not a "
                            "requirements file", hint="fix the line, or include a "
                            "requirements file")
        return text
    except UnicodeDecodeError:
        raise PyveError(f"{shown}: not UTF-8 text",
                        hint="save it as UTF-8") from None
    except OSError as exc:
        raise PyveError(f"{shown}: cannot read it ({exc.strerror})",
                        hint="check the file's permissions") from None


def requirement_files(root: Path, sources: Iterable[str]) -> list[str]:
    """Every file a pip install of `sources` reads: the sources themselves, their -r/-c
    includes, and local projects' metadata. `pyproject.toml` as a source means the project
    itself (`pip install -e .`): its setup.cfg/setup.py count too. A project lock
    (`uv.lock`, ...) is one file, including nothing."""
    return scan(root, sources).files


def scan(root: Path, sources: Iterable[str]) -> Inputs:
    """Every file a pip install of `sources` reads (`files`, as requirement_files), the
    local projects it builds (`trees`, `markers`) or installs (`projects`), and the
    environment variables (${NAME}) its include paths name, with their values (`variables`:
    another value can mean another file, so they are part of the stage's config)."""
    root = root.absolute()
    inputs = Inputs(root, [], [])
    for source in sources:
        path = root / source
        if source == "pyproject.toml":
            inputs.add_project(root)
            inputs.add(path)
            continue
        if source in PROJECT_LOCKS:  # the project's own lock (projectlock.py): read whole
            inputs.add(path)
            continue
        if source == "environment.yml":  # the venv backend installs its pip: section
            from pyve.backends.conda.envfile import load_envfile

            inputs.add(path)
            lines = load_envfile(path).pip_specs
            files_of_lines(inputs, (Line(t.strip(), 0) for t in lines), root,
                           "environment.yml pip: section")
            continue
        _follow(inputs, path, source)
    return inputs


def files_of_pip_section(root: Path, lines: Iterable[str], base: Path, where: str) -> list[str]:
    """The files an environment.yml `pip:` section pulls in (conda runs it from `base`, the
    env file's folder)."""
    inputs = Inputs(root.absolute(), [], [])
    files_of_lines(inputs, (Line(text.strip(), 0) for text in lines if text.strip()),
                   base.absolute(), where)
    return inputs.files
