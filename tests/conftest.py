"""Shared fixtures of the core tests: real MNIST from $NUMPYNET_DATA, and small random data.

Real data is never copied into the repository. Without it a test that needs
it is skipped on a development machine but FAILS in CI (env CI=true), so a
CI that lost its data cannot pass silently.
"""
import os

import numpy as np
import pytest

from core import DatasetError, datasets
from core.layers import base


def _missing_data(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}; CI must provide the data (NUMPYNET_DATA)")
    pytest.skip(reason)


def real_dataset(name):
    """The real dataset ``name`` (a core.datasets.Dataset) from $NUMPYNET_DATA; never downloaded by a test."""
    root = os.environ.get("NUMPYNET_DATA")
    if not root:
        _missing_data(f"NUMPYNET_DATA is not set (point it at the folder holding {name}/)")
    try:
        return datasets.load(name, root=root, download=False)
    except DatasetError as e:
        _missing_data(str(e))


@pytest.fixture(scope="session")
def real_data():
    """``real_dataset``, for a test that needs another dataset than MNIST."""
    return real_dataset


@pytest.fixture(scope="session")
def mnist():
    """MNIST from $NUMPYNET_DATA (see ``real_dataset``)."""
    return real_dataset("mnist")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def tiny_data(rng):
    """A small learnable 3-class problem on 1x8x8 images: the class sets one row bright."""
    n = 96
    y = rng.integers(0, 3, n)
    x = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.3
    x[np.arange(n), 0, 2 * y + 1, :] += 0.7
    return x, y


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No NUMPYNET_DATA, an empty cache, no system folders: only what a test puts in ``tmp_path``."""
    from core.datasets import sources
    monkeypatch.delenv("NUMPYNET_DATA", raising=False)
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [])
    return tmp_path


@pytest.fixture
def registry(monkeypatch):
    """The layer registry as it is now, restored after the test: a type registered in a test stays there."""
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


@pytest.fixture(autouse=True)
def runs_folder(tmp_path_factory, monkeypatch):
    """Every test records runs into a fresh folder of its own, never into the user's real one
    (the CLI and the app record every training run by default)."""
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("NUMPYNET_RUNS", str(folder))
    return folder
