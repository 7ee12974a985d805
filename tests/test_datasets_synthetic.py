"""Synthetic digits: MNIST-like placement, balanced labels, seeded, and no system fonts needed."""
import numpy as np
import pytest

from core import datasets
from core.datasets import glyphs


@pytest.fixture(scope="module")
def digits():
    return datasets.synthetic_digits(600, seed=0)


def centre_of_mass(x):
    img = x[:, 0]
    mass = img.sum(axis=(1, 2))
    grid = np.arange(img.shape[1])
    return (img.sum(2) @ grid) / mass, (img.sum(1) @ grid) / mass


def test_shapes_range_and_names(digits):
    assert digits.name == "synthetic-digits" and digits.class_names == [str(d) for d in range(10)]
    assert digits.x_train.shape == (600, 1, 28, 28) and digits.x_test.shape == (100, 1, 28, 28)
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert digits.x_train.min() == 0 and digits.x_train.max() == 1
    assert np.all(digits.x_train.max(axis=(1, 2, 3)) == 1), "every digit has a saturated stroke, like MNIST"


def test_labels_are_balanced(digits):
    assert np.bincount(digits.y_train, minlength=10).tolist() == [60] * 10
    assert np.bincount(digits.y_test, minlength=10).tolist() == [10] * 10


def test_light_on_dark_centred_by_mass_and_fitted_in_20_pixels(digits):
    x = digits.x_train
    border = np.concatenate([x[..., :2, :].ravel(), x[..., -2:, :].ravel()])
    assert border.mean() < 0.02 and x.mean() < 0.25, "dark background, light strokes"
    cy, cx = centre_of_mass(x)
    assert abs(cy.mean() - 14) < 0.3 and abs(cx.mean() - 14) < 0.3
    assert np.all(np.abs(cy - 14) < 2.0) and np.all(np.abs(cx - 14) < 2.0)
    ink = x[:, 0] > 0.1
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    height = 28 - rows[:, ::-1].argmax(1) - rows.argmax(1)
    width = 28 - cols[:, ::-1].argmax(1) - cols.argmax(1)
    longer = np.maximum(height, width)
    assert 18 <= np.median(longer) <= 22 and longer.max() <= 25


def test_seeded(digits):
    again = datasets.synthetic_digits(600, seed=0)
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_train, digits.y_train)
    other = datasets.synthetic_digits(600, seed=1)
    assert not np.array_equal(other.x_train, digits.x_train)


def test_the_digits_differ_from_class_to_class(digits):
    """A nearest-class-mean classifier must beat chance by far: each class has its own shape."""
    x, y = digits.x_train.reshape(600, -1), digits.y_train
    means = np.stack([x[y == d].mean(0) for d in range(10)])
    xt = digits.x_test.reshape(100, -1)
    predicted = ((xt[:, None] - means[None]) ** 2).sum(-1).argmin(1)
    assert (predicted == digits.y_test).mean() > 0.5


def test_works_without_any_system_font(monkeypatch):
    glyphs.glyph_bank.cache_clear()
    monkeypatch.setattr(glyphs, "font_files", lambda limit=glyphs.MAX_FONTS: [])
    try:
        ds = datasets.synthetic_digits(50, seed=0, n_test=10)
        assert glyphs.glyph_bank().fonts == ("Pillow default",)
    finally:
        glyphs.glyph_bank.cache_clear()
    assert ds.x_train.shape == (50, 1, 28, 28) and ds.x_test.shape == (10, 1, 28, 28)
    assert np.isfinite(ds.x_train).all() and ds.x_train.max() == 1


def test_load_by_name_and_arguments_checked():
    ds = datasets.load("synthetic-digits", n=20, seed=0, n_test=5)
    assert len(ds.x_train) == 20 and len(ds.x_test) == 5
    with pytest.raises(ValueError, match="n >= 1"):
        datasets.synthetic_digits(0)
