"""The conda backend: an environment.yml built into `.pyve/envs/<hash>/`, locked to conda-lock.yml.

The files here read and write the conda formats; the engines (`pyve.engines`) solve and install.
"""
