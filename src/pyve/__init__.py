"""pyve: one command gives a Python project its environment, rebuilt incrementally."""

__version__ = "0.1.0"
