"""The Data view's core: N images per class, class means and pixel histograms, a folder's own format."""
import numpy as np
import pytest
from PIL import Image

from core import DatasetError, datasets
from core.datasets import Dataset
from core.datasets.folder_format import capped
from core.datasets.subset import balanced_indices


def unbalanced(sizes=(300, 150, 40)):
    """A dataset whose class c has sizes[c] training images, each image filled with its own index."""
    y = np.concatenate([np.full(n, c) for c, n in enumerate(sizes)]).astype(np.int64)
    y = np.random.default_rng(1).permutation(y)
    x = np.arange(len(y), dtype=np.float32)[:, None, None, None] * np.ones((1, 1, 2, 2), np.float32)
    return Dataset("toy", x, y, x[:7], y[:7], ["a", "b", "c"], "here")


def test_per_class_gives_exactly_n_of_each_class_and_keeps_the_test_set():
    ds = unbalanced()
    sub = datasets.per_class(ds, 100, seed=0)
    assert np.bincount(sub.y_train).tolist() == [100, 100, 40]
    assert len(np.unique(sub.x_train[:, 0, 0, 0])) == 240, "no image twice"
    assert np.array_equal(ds.y_train[sub.x_train[:, 0, 0, 0].astype(int)], sub.y_train), "images keep labels"
    assert sub.x_test is ds.x_test and len(ds.x_train) == 490, "the full dataset is untouched"
    assert sub.subset == "240 of 490 training images: 100 per class, seed 0 (fewer in c: all they have)"
    assert "(240 of 490 training images" in sub.describe() and ds.subset == ""


def test_per_class_is_the_same_subset_for_the_same_seed_and_another_for_another():
    ds = unbalanced()
    first, again = datasets.per_class(ds, 10, seed=3), datasets.per_class(ds, 10, seed=3)
    other = datasets.per_class(ds, 10, seed=4)
    assert np.array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)
    assert np.bincount(other.y_train).tolist() == [10, 10, 10]


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "100"])
def test_per_class_refuses_what_is_not_a_count(n):
    with pytest.raises(ValueError, match="per_class must be a positive number"):
        balanced_indices([0, 1, 1], n)


def test_summarise_known_class_means_and_histogram():
    x = np.zeros((4, 1, 2, 2), np.float32)
    x[0, 0, 0, 0], x[1, 0, 0, 0] = 1.0, 0.5      # class 0: mean 0.75 in the corner
    x[2:, 0, 1, 1] = 1.0                          # class 1: 1.0 in the other corner
    y = np.array([0, 0, 1, 1])
    calls = []
    s = datasets.summarise(x, y, 3, bins=4, progress=lambda d, t: calls.append((d, t)))
    assert s.means.shape == (3, 1, 2, 2) and s.counts.tolist() == [2, 2, 0]
    assert s.means[0, 0].tolist() == [[0.75, 0.0], [0.0, 0.0]]
    assert s.means[1, 0].tolist() == [[0.0, 0.0], [0.0, 1.0]]
    assert not s.means[2].any(), "a class without images has a blank mean, not NaN"
    assert s.histogram.tolist() == [[12, 0, 1, 3]] and s.edges.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert calls[-1] == (4, 4)


def test_summarise_counts_each_colour_channel_and_reports_each_chunk(monkeypatch):
    monkeypatch.setattr("core.datasets.stats.CHUNK", 3)
    x = np.zeros((7, 3, 1, 1), np.float32)
    x[:, 0] = 1.0           # red full, green at 0.5, blue dark
    x[:, 1] = 0.5
    s = datasets.summarise(x, np.zeros(7, np.int64), 1, bins=2)
    assert s.histogram.tolist() == [[0, 7], [0, 7], [7, 0]]
    calls = []
    datasets.summarise(x, np.zeros(7, np.int64), 1, progress=lambda d, t: calls.append(d))
    assert calls == [3, 6, 7]


def test_summarise_refuses_mismatched_labels():
    with pytest.raises(ValueError, match="3 labels"):
        datasets.summarise(np.zeros((2, 1, 2, 2)), [0, 1, 1], 2)


def rgb_folder(root, sizes, per_class=4, mode="RGB"):
    """root/<red|green>/<i>.png, class red reddish, class green greenish, sizes cycling over ``sizes``."""
    colours = {"red": (220, 30, 30), "green": (30, 200, 40)}
    for name, colour in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            w, h = sizes[i % len(sizes)]
            Image.new("RGB", (w, h), colour).convert(mode).save(root / name / f"{i}.png")
    return root


def test_folder_follows_its_images_colour_and_most_common_size(tmp_path):
    root = rgb_folder(tmp_path / "rgb", [(40, 30), (40, 30), (12, 12)], per_class=5)   # (width, height)
    assert datasets.common_format(root) == (False, (30, 40))
    ds = datasets.load_folder(root, size=None, grayscale=None, test_fraction=0.2)
    assert ds.x_train.shape == (8, 3, 30, 40) and ds.x_test.shape == (2, 3, 30, 40)
    assert np.bincount(ds.y_train).tolist() == [4, 4] and ds.class_names == ["green", "red"]
    red = ds.x_train[ds.y_train == 1][0]
    assert np.allclose(red[:, 5, 5], np.array([220, 30, 30]) / 255, atol=1e-6), "colour is kept"


def test_folder_choices_override_what_the_images_suggest(tmp_path):
    root = rgb_folder(tmp_path / "rgb", [(32, 32)])
    assert datasets.load_folder(root, size=None, grayscale=True).input_shape == (1, 32, 32)
    assert datasets.load_folder(root, size=(20, 24), grayscale=None).input_shape == (3, 20, 24)
    assert datasets.load_folder(root).input_shape == (1, 28, 28), "the old default is unchanged"


def test_grey_pictures_are_grey_and_large_ones_are_capped(tmp_path):
    root = rgb_folder(tmp_path / "grey", [(500, 375)], per_class=2, mode="L")
    assert datasets.common_format(root) == (True, (48, 64))
    assert datasets.load_folder(root, size=None, grayscale=None).input_shape == (1, 48, 64)
    assert capped((28, 28)) == (28, 28) and capped((1000, 10)) == (64, 1)


def test_format_of_a_folder_with_no_pictures_is_a_dataset_error_naming_it(tmp_path):
    (tmp_path / "notes" / "a").mkdir(parents=True)
    (tmp_path / "notes" / "a" / "x.txt").write_text("not a picture")
    with pytest.raises(DatasetError, match="notes: no readable picture"):
        datasets.common_format(tmp_path / "notes")
    with pytest.raises(DatasetError, match="x.txt"):   # loading names the file itself
        datasets.load_folder(tmp_path / "notes", size=None, grayscale=None)


def test_a_folder_dataset_is_prepared_by_resizing_and_named_datasets_as_before(tmp_path):
    root = rgb_folder(tmp_path / "rgb", [(32, 32)])
    assert datasets.load_folder(root).preprocessing == "resize"
    x = np.zeros((1, 1, 2, 2), np.float32)
    assert [Dataset(n, x, [0], x, [0], ["a"], "here").preprocessing for n in ("mnist", "fashion-mnist")] == \
        ["mnist", "fit"]


def test_resize_mode_keeps_the_whole_picture_its_colours_and_its_polarity():
    from core.preprocess import prepare
    picture = np.ones((40, 60, 3), np.float32)        # white paper ...
    picture[10:30, 20:40] = (0.8, 0.0, 0.0)            # ... with a red square in the middle
    x = prepare(picture, (3, 20, 30), mode="resize")
    assert x.shape == (1, 3, 20, 30) and x.dtype == np.float32
    assert np.allclose(x[0, :, 0, 0], 1.0) and np.allclose(x[0, :, 10, 15], (0.8, 0.0, 0.0))
    assert prepare(np.full((8, 8), 0.5), (1, 4, 4), mode="resize").tolist() == [[[[0.5] * 4] * 4]], \
        "a plain picture is a picture, not 'nothing drawn'"
