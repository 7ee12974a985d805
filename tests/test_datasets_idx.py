"""IDX files: read gzip or plain, and every kind of broken file is a DatasetError naming it."""
import gzip
import math

import numpy as np
import pytest

from core import DatasetError, datasets
from core.datasets import sources
from idx_files import idx_bytes


def write_set(folder, n_train=12, n_test=6, gz=True, labels_train=None):
    """A small MNIST-format set; returns the arrays written."""
    rng = np.random.default_rng(1)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10 if labels_train is None else labels_train,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(n_test) % 10}
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_reads_plain_and_gzip(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    path = tmp_path / ("x.gz" if compress else "x")
    data = idx_bytes(images)
    path.write_bytes(gzip.compress(data) if compress else data)
    out = datasets.load_idx(path)
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out, images)


def test_load_idx_reads_one_dimensional_labels(tmp_path):
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([3, 1, 4, 1, 5])))
    np.testing.assert_array_equal(datasets.load_idx(tmp_path / "labels"), [3, 1, 4, 1, 5])


def _broken(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


GOOD = idx_bytes(np.zeros((4, 28, 28)))
CASES = {
    "truncated": ("images", GOOD[:-100], "truncated"),
    "truncated gzip member": ("images.gz", gzip.compress(GOOD[:-100]), "truncated"),
    "header cut short": ("images", GOOD[:10], "truncated"),
    "wrong magic": ("images", b"\x12\x34" + GOOD[2:], "magic"),
    "text file": ("images", b"<html>Not Found</html>\n", "magic"),
    "empty": ("images", b"", "empty"),
    "empty gzip": ("images.gz", b"", "empty"),
    "corrupt gzip stream": ("images.gz", gzip.compress(GOOD)[:20] + b"\xff" * 40 + gzip.compress(GOOD)[60:], "gzip"),
    "gzip cut short": ("images.gz", gzip.compress(GOOD)[:-30], "gzip"),
    "named .gz but plain": ("images.gz", GOOD, "not gzip"),
    "extra bytes": ("images", GOOD + b"\0" * 7, "unexpected bytes"),
    "not unsigned bytes": ("images", bytes([0, 0, 0x0D, 3]) + GOOD[4:], "not supported"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_file_is_a_dataset_error_naming_file_and_problem(tmp_path, case):
    name, data, problem = CASES[case]
    path = _broken(tmp_path, name, data)
    with pytest.raises(DatasetError) as err:
        datasets.load_idx(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def _header(*dims):
    return bytes([0, 0, 8, len(dims)]) + np.asarray(dims, ">u4").tobytes()


@pytest.mark.parametrize("dims, data", [((2 ** 31,) * 3, b"\0" * 10), ((2 ** 16,) * 4, b""),
                                        ((2 ** 32 - 1,) * 4, b"\0" * 3), ((2 ** 32 - 1, 28, 28), b"")],
                         ids=["2^31-each", "wraps-to-zero", "largest", "many-images"])
def test_a_header_whose_size_overflows_is_a_dataset_error_with_the_true_size(tmp_path, dims, data):
    path = _broken(tmp_path, "images", _header(*dims) + data)
    with pytest.raises(DatasetError) as err:
        datasets.load_idx(path)
    message = str(err.value)
    assert str(path) in message and "truncated" in message
    assert f"{math.prod(dims):,} bytes" in message and f"has {len(data):,}" in message


def test_a_missing_file_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        datasets.load_idx(tmp_path / "nothing.gz")


def test_load_reads_a_set_from_root_with_structure_checks_only(isolated):
    """Local files are trusted by structure: these have nothing like the published md5s."""
    arrays = write_set(isolated / "data" / "mnist")
    ds = datasets.load("mnist", root=isolated / "data", download=False)
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_test.shape == (6, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(ds.x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"], atol=1e-3)
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert ds.source == str(isolated / "data" / "mnist")
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10 and ds.class_names == list("0123456789")


def test_load_accepts_plain_files_and_root_naming_the_folder_itself(isolated):
    write_set(isolated / "plain", gz=False)
    ds = datasets.load("mnist", root=isolated / "plain", download=False)
    assert len(ds.x_train) == 12 and ds.source == str(isolated / "plain")


def test_label_count_differing_from_image_count_names_both_files(isolated):
    write_set(isolated / "mnist", labels_train=np.arange(11) % 10)
    with pytest.raises(DatasetError) as err:
        datasets.load("mnist", root=isolated, download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz has 12 images" in message
    assert "train-labels-idx1-ubyte.gz has 11 labels" in message


def test_a_label_beyond_the_classes_is_refused(isolated):
    write_set(isolated / "mnist", labels_train=np.full(12, 10))
    with pytest.raises(DatasetError, match="label 10 is out of range"):
        datasets.load("mnist", root=isolated, download=False)


def test_a_broken_file_inside_a_set_is_named(isolated):
    write_set(isolated / "mnist")
    bad = isolated / "mnist" / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-40])
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz"):
        datasets.load("mnist", root=isolated, download=False)


def test_search_order_root_then_env_then_cache_then_system(isolated, monkeypatch):
    folders = {"root": isolated / "r" / "fashion-mnist", "env": isolated / "e" / "fashion-mnist",
               "cache": isolated / "cache" / "fashion-mnist", "system": isolated / "s" / "fashion-mnist"}
    for i, folder in enumerate(folders.values()):
        write_set(folder, n_train=10 + i)
    monkeypatch.setenv("NUMPYNET_DATA", str(isolated / "e"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [isolated / "s"])
    assert len(datasets.load("fashion-mnist", root=isolated / "r", download=False).x_train) == 10
    assert len(datasets.load("fashion-mnist", download=False).x_train) == 11
    monkeypatch.delenv("NUMPYNET_DATA")
    assert len(datasets.load("fashion-mnist", download=False).x_train) == 12
    for i in range(4):
        (folders["cache"] / sources.IDX_SOURCES["fashion-mnist"].files[i].name).with_suffix(".gz").unlink()
    ds = datasets.load("fashion-mnist", download=False)
    assert len(ds.x_train) == 13 and ds.source == str(folders["system"])
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_cache_follows_xdg_unless_numpynet_cache_is_set(monkeypatch, tmp_path):
    monkeypatch.setattr(sources.sys, "platform", "linux")
    monkeypatch.delenv("NUMPYNET_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sources.cache_dir("mnist") == tmp_path / "xdg" / "numpynet" / "mnist"
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "mine"))
    assert sources.cache_dir("kmnist") == tmp_path / "mine" / "kmnist"


def test_not_found_without_download_says_where_to_put_the_files(isolated):
    write_set(isolated / "mnist")
    (isolated / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as err:
        datasets.load("kmnist", root=isolated, download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and str(isolated / "cache" / "kmnist") in message
    with pytest.raises(DatasetError, match="hold only some of the files"):
        datasets.load("mnist", root=isolated, download=False)


def test_kmnist_class_names_are_its_characters():
    names = sources.IDX_SOURCES["kmnist"].class_names
    assert len(names) == 10 and names[0].startswith("お") and names[9].startswith("を")


def test_unknown_dataset_and_stray_options_are_value_errors():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        datasets.load("cifar")
    with pytest.raises(TypeError, match="takes no options"):
        datasets.load("mnist", per_class=3)


def test_names_and_catalog_cover_every_dataset(isolated):
    write_set(isolated / "cache" / "mnist", n_train=20, n_test=5)
    entries = {e["name"]: e for e in datasets.catalog()}
    assert list(entries) == datasets.names() == ["mnist", "fashion-mnist", "kmnist", "quickdraw",
                                                 "synthetic-digits"]
    assert entries["mnist"]["found"] == str(isolated / "cache" / "mnist") and entries["mnist"]["images"] == 25
    assert entries["kmnist"]["found"] is None and entries["kmnist"]["images"] == 70000
    assert entries["kmnist"]["mirrors"][0].startswith("http://codh.rois.ac.jp/")
    assert entries["kmnist"]["bytes"] > 20e6
    text = datasets.catalog_text()
    assert "mnist" in text and "would download from" in text
    assert entries["kmnist"]["size"] == "70,000 images, 21.2 MB"
