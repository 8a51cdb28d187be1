"""Conda engines: py-rattler (embedded, the default) and a micromamba binary, when asked for."""
