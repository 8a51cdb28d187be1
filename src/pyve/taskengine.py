"""doit's task engine (dependency, control, runner, task), imported without doit's command line.

`import doit.dependency` first runs doit/__init__.py, which imports doit's command line, its
plugin loader (importlib.metadata, email) and its Python API: about 40 % of what the import
costs (docs/performance.md has the figures). pyve drives the engine itself (Dependency,
TaskControl, Runner: doit's own `run` command does the same), so it registers doit's package
unexecuted and runs that __init__ only when something asks for a name the engine modules do
not define (`doit.run`, `doit.__version__`): the modules and their behaviour are doit's own.
"""

from __future__ import annotations

import sys
from typing import Any


def _register_doit_package() -> None:
    if "doit" in sys.modules:  # imported already (a test, dodo.py): use it as it is
        return
    from importlib.util import find_spec, module_from_spec

    spec = find_spec("doit")
    if spec is None or spec.loader is None:
        raise ImportError("pyve needs doit: pip install doit")
    package = module_from_spec(spec)  # __path__, __spec__, __file__: enough for submodules
    loader = spec.loader

    def complete(name: str) -> Any:
        # PEP 562: called only for a name not already there; run doit's __init__ in place
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__dict__["__getattr__"] = complete
    sys.modules["doit"] = package


_register_doit_package()

from doit.control import TaskControl  # noqa: E402
from doit.dependency import (  # noqa: E402
    Dependency,
    DependencyStatus,
    FileChangedChecker,
    JSONCodec,
    JsonDB,
)
from doit.exceptions import TaskFailed  # noqa: E402
from doit.runner import Runner  # noqa: E402
from doit.task import Stream, dict_to_task  # noqa: E402

__all__ = ["Dependency", "DependencyStatus", "FileChangedChecker", "JSONCodec", "JsonDB",
           "Runner", "Stream", "TaskControl", "TaskFailed", "dict_to_task"]
