"""The conda engine: environment.yml parsing, rattler solve/install, conda-lock.yml I/O.

No CLI and no doit here: the conda backend drives these modules.
"""
