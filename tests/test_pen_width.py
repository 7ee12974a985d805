"""A picture of a digit written large with a fine pen is read like one written with MNIST's pen."""
from pathlib import Path

import numpy as np
import pytest

from core import load_model
from core.datasets.pen_digits import SKELETONS, draw_pen_digit
from core.pen_width import normalise_pen
from core.preprocess import prepare
from core.strokes import PEN_RATIO

LENET = Path(__file__).resolve().parents[1] / "saved_models" / "lenet5-mnist"


def pictures(height, pen, canvas):
    """Every pen-drawn variant of every digit, ``height`` pixels tall with a ``pen`` pixels wide."""
    return [(d, np.asarray(draw_pen_digit(strokes, height, pen, canvas)))
            for d, variants in SKELETONS.items() for strokes in variants]


@pytest.mark.parametrize("height, pen, canvas", [(280, 3, 336), (800, 4, 1000), (150, 1, 200)])
def test_fine_pen_digits_are_read_as_well_as_medium_pen_ones(height, pen, canvas):
    model = load_model(LENET)
    for drawn in (pictures(height, pen, canvas), pictures(height, round(PEN_RATIO * height), canvas)):
        digits, images = zip(*drawn)
        probs = model.predict(np.concatenate([prepare(im) for im in images]))
        right = probs[np.arange(len(digits)), digits]
        assert (probs.argmax(axis=1) == digits).all() and right.mean() > 0.97, (height, pen, right.round(2))


def test_the_pen_becomes_mnists_share_of_the_digit():
    _, image = pictures(800, 4, 1000)[3]                           # a 1 drawn as one straight stroke
    ink = normalise_pen(image / 255.0) > 0.5
    rows = np.flatnonzero(ink.any(axis=1))
    width = ink[(rows[0] + rows[-1]) // 2].sum()                  # across the stroke, half way down
    assert width == pytest.approx(PEN_RATIO * (len(rows) - width), abs=1.5)
    assert len(rows) <= 112 + width


def test_a_digit_with_an_mnist_like_pen_is_left_as_it_is(mnist):
    for image in [mnist.x_test[i, 0] for i in range(50)] + [im / 255.0 for _, im in pictures(200, 22, 260)]:
        assert normalise_pen(image) is image
