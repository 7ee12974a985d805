"""Shared fixtures of the core tests: real MNIST from $NUMPYNET_DATA, and small random data.

Real data is never copied into the repository. Without it a test that needs
it is skipped on a development machine but FAILS in CI (env CI=true), so a
CI that lost its data cannot pass silently.
"""
import gzip
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core import DatasetError, datasets

IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def _missing_data(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}; CI must provide the data (NUMPYNET_DATA)")
    pytest.skip(reason)


def _read_idx(path):
    """Stop-gap IDX reader (magic, dims, payload) until core.datasets.load lands."""
    data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_path(folder, stem):
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.exists():
            return path
    return None


def _load_from(folder):
    paths = {key: _idx_path(folder, stem) for key, stem in IDX_FILES.items()}
    if None in paths.values():
        return None
    raw = {key: _read_idx(path) for key, path in paths.items()}
    return SimpleNamespace(
        x_train=(raw["x_train"][:, None] / np.float32(255)).astype(np.float32),
        y_train=raw["y_train"].astype(np.int64),
        x_test=(raw["x_test"][:, None] / np.float32(255)).astype(np.float32),
        y_test=raw["y_test"].astype(np.int64))


@pytest.fixture(scope="session")
def mnist():
    """MNIST as float32 (N, 1, 28, 28) in [0, 1] and int64 labels, read from $NUMPYNET_DATA/mnist."""
    root = os.environ.get("NUMPYNET_DATA")
    if not root:
        _missing_data("NUMPYNET_DATA is not set (point it at the folder holding mnist/)")
    if hasattr(datasets, "load"):
        try:
            return datasets.load("mnist", download=False)
        except DatasetError as e:
            _missing_data(str(e))
    data = _load_from(Path(root) / "mnist")
    if data is None:
        _missing_data(f"no MNIST IDX files in {Path(root) / 'mnist'}")
    return data


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
