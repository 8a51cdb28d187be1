"""Where a conda env lives in the project and how a finished one is marked. The env
(.pyve/envs/<hash>/) and its recorded solution beside it (<hash>.solution.json) are named by
backend.py's stages and by the by-hand helpers (byhand.py) that look into the env a new one
replaces.
"""

ENVS_DIR = ".pyve/envs"
# Not *.json: conda, micromamba and rattler read every conda-meta/*.json as a package record
# (rattler fails with "Invalid conda-meta filename format").
MARKER = "conda-meta/pyve-env.marker"
