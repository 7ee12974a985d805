"""The real MNIST and Fashion-MNIST from $NUMPYNET_DATA: published shapes, counts and checksums.

Skipped on a development machine without the data; FAILS when CI=true, so a
CI that lost its data cannot pass silently.
"""
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest

from core import datasets
from idx_files import idx_bytes

# md5 of the uncompressed IDX files, as published (shared/data/README.md)
MD5 = {
    "mnist": {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
              "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
              "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
              "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"},
    "fashion-mnist": {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                      "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                      "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                      "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"},
}
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def data_folder(name):
    root = os.environ.get("NUMPYNET_DATA")
    folder = Path(root) / name if root else None
    if folder is None or not folder.is_dir():
        reason = f"real {name} needs NUMPYNET_DATA pointing at a folder with {name}/ (got {root!r})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return folder


@pytest.fixture
def no_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "cache"))


def test_mnist_has_the_published_shapes_and_class_counts(no_cache):
    folder = data_folder("mnist")
    started = time.perf_counter()
    ds = datasets.load("mnist", download=False)
    elapsed = time.perf_counter() - started
    assert ds.source == str(folder)
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(ds.y_test).tolist() == MNIST_TEST_COUNTS
    assert ds.x_train.min() == 0 and ds.x_train.max() == 1
    assert elapsed < 10, f"loading MNIST took {elapsed:.1f} s; it should take about a second"


def test_fashion_mnist_has_the_published_shapes_class_counts_and_names(no_cache):
    folder = data_folder("fashion-mnist")
    ds = datasets.load("fashion-mnist", download=False)
    assert ds.source == str(folder)
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.class_names == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.mark.parametrize("name", list(MD5))
def test_load_idx_reads_exactly_the_published_bytes(name):
    folder = data_folder(name)
    for stem, md5 in MD5[name].items():
        path = folder / f"{stem}.gz" if (folder / f"{stem}.gz").exists() else folder / stem
        array = datasets.load_idx(path)
        assert hashlib.md5(idx_bytes(array)).hexdigest() == md5, stem
