"""Helpers the tests share (no fixtures: those live in the conftest.py files)."""
