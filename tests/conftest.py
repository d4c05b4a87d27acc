"""Shared fixtures: MNIST loaded once per session, and a private cache folder."""

import pytest

from brian_segdend.training.data import ENV_CACHE, load_mnist


@pytest.fixture(scope="session")
def mnist():
    """The full MNIST data set, from the default sources (loaded once per test session)."""
    return load_mnist()


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty cache folder, also set as ``$BRIAN_SEGDEND_CACHE`` for the test."""
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv(ENV_CACHE, str(folder))
    return folder
