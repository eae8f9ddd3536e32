"""Shared fixtures."""

import os

import pytest


@pytest.fixture(scope="session")
def monkeypatch_env():
    """Keep the user's INFERWALL_* variables out of CLI comparisons."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("INFERWALL_")}
    yield
    os.environ.update(saved)
