"""`pyve remove NAME...`: the requirement out of the project's file, then a build (commands/
add.py has both)."""

from __future__ import annotations

from pyve.commands.add import run_remove as run

__all__ = ["run"]
