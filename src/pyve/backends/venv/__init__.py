"""The venv backend: a standard `.venv` built with pip or uv, locked to a hashed requirements file."""
