"""Python package installers (pip and uv), used by both backends for pip dependencies."""
