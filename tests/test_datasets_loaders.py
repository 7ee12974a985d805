"""Quick, Draw! bitmaps, folders of images, and stratified splits, on small files made here."""
import http.server
import threading
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from core import DatasetError, datasets


def bitmaps(n, value):
    """n drawings whose pixels all equal ``value`` (so a test can tell categories apart)."""
    return np.full((n, 784), value, np.uint8)


# ---------------------------------------------------------------- Quick, Draw!
def test_quickdraw_local_files_sampled_and_split_stratified(isolated):
    folder = isolated / "data" / "quickdraw"
    folder.mkdir(parents=True)
    np.save(folder / "cat.npy", bitmaps(50, 10))
    np.save(folder / "bicycle.npy", bitmaps(30, 200))
    ds = datasets.load("quickdraw", root=isolated / "data", categories=["cat", "bicycle"],
                       per_class=20, seed=0, download=False)
    assert ds.class_names == ["cat", "bicycle"] and ds.name == "quickdraw"
    assert ds.x_train.shape == (32, 1, 28, 28) and ds.x_test.shape == (8, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == [16, 16] and np.bincount(ds.y_test).tolist() == [4, 4]
    # every image carries its category's value: labels and pixels stay together
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        np.testing.assert_allclose(x[:, 0, 0, 0], np.where(y == 0, 10, 200) / 255, rtol=1e-6)
    assert ds.source == str(folder)


def test_quickdraw_sample_is_seeded_and_takes_all_when_few(isolated):
    folder = isolated / "quickdraw"
    folder.mkdir()
    np.save(folder / "cat.npy", np.arange(40 * 784).reshape(40, 784).astype(np.uint8))
    np.save(folder / "dog.npy", bitmaps(5, 1))
    load = lambda seed: datasets.load("quickdraw", root=isolated, categories=["cat", "dog"],  # noqa: E731
                                      per_class=10, seed=seed, download=False)
    a, b, c = load(0), load(0), load(1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert np.bincount(np.concatenate([a.y_train, a.y_test])).tolist() == [10, 5]


@pytest.mark.parametrize("content, problem", [
    (np.zeros((5, 100), np.uint8), "expected an \\(N, 784\\) uint8"),
    (np.zeros((5, 784), np.float32), "expected an \\(N, 784\\) uint8"),
    (np.array([{"a": 1}], dtype=object), "not a readable .npy"),
])
def test_quickdraw_refuses_foreign_files(isolated, content, problem):
    folder = isolated / "quickdraw"
    folder.mkdir()
    np.save(folder / "cat.npy", content, allow_pickle=True)
    with pytest.raises(DatasetError, match=problem) as err:
        datasets.load("quickdraw", root=isolated, categories=["cat"], download=False)
    assert str(folder / "cat.npy") in str(err.value)


def test_quickdraw_missing_without_download_names_file_and_folders(isolated):
    with pytest.raises(DatasetError) as err:
        datasets.load("quickdraw", categories=["The Eiffel Tower"], download=False)
    assert "The Eiffel Tower.npy" in str(err.value) and str(isolated / "cache" / "quickdraw") in str(err.value)


def test_quickdraw_downloads_url_encoded_names_with_progress(isolated, monkeypatch):
    served = {}
    data = {"The Eiffel Tower.npy": bitmaps(12, 7)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = urllib.parse.unquote(self.path.lstrip("/"))
            served[self.path] = name
            path = isolated / "served.npy"
            np.save(path, data[name])
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        monkeypatch.setattr("core.datasets.quickdraw.QUICKDRAW_MIRRORS",
                            (f"http://127.0.0.1:{httpd.server_address[1]}/",))
        calls = []
        ds = datasets.load("quickdraw", categories=["The Eiffel Tower"], per_class=100,
                           progress=lambda d, t: calls.append((d, t)))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert list(served) == ["/The%20Eiffel%20Tower.npy"]
    assert len(ds.x_train) + len(ds.x_test) == 12 and ds.class_names == ["The Eiffel Tower"]
    assert calls[-1][0] == calls[-1][1] > 0
    assert (isolated / "cache" / "quickdraw" / "The Eiffel Tower.npy").is_file()


def test_quickdraw_checks_its_arguments():
    with pytest.raises(ValueError, match="per_class"):
        datasets.load("quickdraw", categories=["cat"], per_class=0)
    with pytest.raises(ValueError, match="repeat"):
        datasets.load("quickdraw", categories=["cat", "cat"])
    with pytest.raises(ValueError, match="not a category"):
        datasets.load("quickdraw", categories=["../secret"])


# ---------------------------------------------------------------- folders of images
def make_folder(root):
    """Two classes in several formats, plus a broken PNG, a truncated JPEG and a text note."""
    rng = np.random.default_rng(0)
    for cls, n, fmt in (("circle", 6, "png"), ("square", 5, "jpg")):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (40, 30), dtype=np.uint8)).save(root / cls / f"{i}.{fmt}")
    Image.fromarray(np.full((10, 10, 3), 255, np.uint8)).save(root / "square" / "rgb.bmp")
    (root / "circle" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    jpeg = (root / "square" / "0.jpg").read_bytes()
    (root / "square" / "cut.jpg").write_bytes(jpeg[:len(jpeg) // 3])
    (root / "square" / "notes.txt").write_text("not an image")


def test_folder_loads_classes_and_skips_broken_files_by_name(tmp_path):
    make_folder(tmp_path / "shapes")
    with pytest.warns(UserWarning, match="skipped 3 unreadable files") as caught:
        ds = datasets.load_folder(tmp_path / "shapes", test_fraction=0.2, seed=0)
    assert ds.class_names == ["circle", "square"] and ds.name == "shapes"
    assert sorted(s.split(":")[0] for s in ds.skipped) == sorted(
        ["circle/broken.png", "square/cut.jpg", "square/notes.txt"])
    assert "circle/broken.png" in str(caught[0].message)
    assert ds.x_train.shape[1:] == (1, 28, 28) and ds.x_train.dtype == np.float32
    assert len(ds.x_train) + len(ds.x_test) == 12
    assert np.bincount(ds.y_test).tolist() == [1, 1]
    assert ds.x_train.min() >= 0 and ds.x_train.max() <= 1
    assert ds.source == str(tmp_path / "shapes")


def test_folder_size_and_colour(tmp_path):
    make_folder(tmp_path / "shapes")
    with pytest.warns(UserWarning):
        ds = datasets.load_folder(tmp_path / "shapes", size=(16, 20), grayscale=False)
    assert ds.x_train.shape[1:] == (3, 16, 20) and ds.input_shape == (3, 16, 20)


def test_folder_without_classes_or_images_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        datasets.load_folder(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    Image.new("L", (8, 8)).save(tmp_path / "flat" / "a.png")
    with pytest.raises(DatasetError, match="no class subfolders"):
        datasets.load_folder(tmp_path / "flat")
    (tmp_path / "junk" / "a").mkdir(parents=True)
    (tmp_path / "junk" / "a" / "x.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match=r"no readable images.*a/x\.png"):
        datasets.load_folder(tmp_path / "junk")


def classes_with_a_gap(root, gap_files):
    """Classes 'a', 'b', 'c', 'd' with images of value 10, 20, 30, 40; 'b' holds only ``gap_files``."""
    for value, name in ((10, "a"), (20, "b"), (30, "c"), (40, "d")):
        (root / name).mkdir(parents=True)
        if name != "b":
            for i in range(3):
                Image.new("L", (8, 8), value).save(root / name / f"{i}.png")
    for name, data in gap_files.items():
        (root / "b" / name).write_bytes(data)
    return root


GAPS = {"empty": {}, "unreadable": {"x.png": b"nope", "y.jpg": b"\xff\xd8 cut"}, "hidden-only": {".DS_Store": b"x"}}


@pytest.mark.parametrize("gap", GAPS, ids=GAPS.keys())
def test_a_class_folder_without_images_is_an_error_naming_it_and_its_files(tmp_path, gap):
    root = classes_with_a_gap(tmp_path / "letters", GAPS[gap])
    with pytest.raises(DatasetError) as err:
        datasets.load_folder(root)
    message = str(err.value)
    assert str(root) in message and "b/: class 1 has no readable images" in message
    assert all(name in message for name in GAPS[gap] if not name.startswith("."))
    assert "skip_empty=True" in message


@pytest.mark.parametrize("gap", GAPS, ids=GAPS.keys())
def test_skip_empty_keeps_every_label_at_its_folders_sorted_position_and_says_so(tmp_path, gap):
    root = classes_with_a_gap(tmp_path / "letters", GAPS[gap])
    with pytest.warns(UserWarning, match=r"b/: class 1 has no readable images.*kept as a class with no images"):
        ds = datasets.load_folder(root, skip_empty=True, test_fraction=0.34)
    assert ds.class_names == ["a", "b", "c", "d"] and ds.num_classes == 4
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        np.testing.assert_allclose(x[:, 0, 0, 0] * 255, (y + 1) * 10, atol=1e-3)   # 'c' keeps label 2
    assert 1 not in ds.y_train and any(s.startswith("b/: class 1") for s in ds.skipped)


def test_skip_empty_still_refuses_a_folder_with_no_images_at_all(tmp_path):
    (tmp_path / "none" / "a").mkdir(parents=True)
    (tmp_path / "none" / "b").mkdir()
    with pytest.raises(DatasetError, match="no readable images in any class folder"):
        datasets.load_folder(tmp_path / "none", skip_empty=True)



def test_files_in_hidden_folders_inside_a_class_are_not_its_images_and_broken_links_are_said(tmp_path):
    """rglob found a/.ipynb_checkpoints/0-checkpoint.png and a/.thumbnails/0.png and counted them as
    more images of class a (copies, or other pictures); a link to a deleted file vanished without a word."""
    root = classes_with_a_gap(tmp_path / "letters", {})
    for hidden in (".ipynb_checkpoints", ".thumbnails"):
        (root / "a" / hidden).mkdir()
        Image.new("L", (8, 8), 250).save(root / "a" / hidden / "0.png")
    Image.new("L", (8, 8), 20).save(root / "b" / "0.png")
    (root / "c" / "gone.png").symlink_to(root / "c" / "deleted.png")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable file: c/gone\.png"):
        ds = datasets.load_folder(root, test_fraction=0.34)
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    assert np.bincount(y).tolist() == [3, 1, 3, 3]
    np.testing.assert_allclose(x[:, 0, 0, 0] * 255, (y + 1) * 10, atol=1e-3)   # no 250 from a hidden folder

# ---------------------------------------------------------------- validation split
def test_split_validation_is_stratified_disjoint_and_seeded():
    y = np.array([0] * 100 + [1] * 50 + [2] * 10)
    x = np.arange(len(y))
    xt, yt, xv, yv = datasets.split_validation(x, y, 0.2, seed=3)
    assert np.bincount(yv).tolist() == [20, 10, 2] and np.bincount(yt).tolist() == [80, 40, 8]
    assert sorted(np.concatenate([xt, xv]).tolist()) == x.tolist()
    np.testing.assert_array_equal(y[xt], yt)
    again = datasets.split_validation(x, y, 0.2, seed=3)
    np.testing.assert_array_equal(again[2], xv)
    assert not np.array_equal(datasets.split_validation(x, y, 0.2, seed=4)[2], xv)


def test_split_validation_takes_one_hot_labels_and_checks_arguments():
    y = np.eye(3)[np.arange(30) % 3]
    xt, yt, xv, yv = datasets.split_validation(np.zeros((30, 2)), y, 0.1, seed=0)
    assert yv.shape == (3, 3) and yv.sum(0).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="fraction"):
        datasets.split_validation(np.zeros(4), np.zeros(4), 1.0, 0)
    with pytest.raises(ValueError, match="different lengths"):
        datasets.split_validation(np.zeros(4), np.zeros(5), 0.2, 0)
