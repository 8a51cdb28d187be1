"""Fixtures of the unit tests that run pyve's code in this process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def same_env(monkeypatch: pytest.MonkeyPatch, sandbox_env: dict[str, str]) -> Iterator[None]:
    """This process sees what the `pyve` subprocesses see (the decision reads the env)."""
    for key in list(os.environ):
        if key not in sandbox_env:
            monkeypatch.delenv(key)
    for key, value in sandbox_env.items():
        monkeypatch.setenv(key, value)
    yield
