"""Strokes are drawn for the network at MNIST's pen width, whatever size and brush drew them."""
import numpy as np
import pytest

from core.datasets.pen_digits import SKELETONS
from core.preprocess import NothingDrawn, prepare
from core.strokes import PEN_RATIO, SIDE, Stroke, render_strokes, within


def digit(d, height, brush, at=(0.0, 0.0)):
    """Digit ``d``'s first pen skeleton, ``height`` tall with its corner ``at``, drawn with ``brush``."""
    return [Stroke(np.asarray(s) * height + at, brush) for s in SKELETONS[d][0]]


@pytest.mark.parametrize("d", range(10))
def test_the_same_digit_at_any_size_brush_and_place_gives_the_same_input(d):
    reference = prepare(render_strokes(digit(d, 200, 26, (60, 40))))
    for height, brush, at in ((60, 26, (5, 250)), (290, 4, (20, 20)), (67, 50, (200, 200)), (120, 1, (0, 0))):
        x = prepare(render_strokes(digit(d, height, brush, at)))
        assert np.abs(x - reference).mean() < 0.01, (height, brush)


def test_the_pen_is_a_fixed_share_of_the_drawing_and_at_full_contrast():
    line = render_strokes([Stroke([(10, 10), (10, 300)], 50)])     # one long stroke: the pen is its width
    assert line.shape[0] == pytest.approx(SIDE + 2 * PEN_RATIO * SIDE, abs=1)
    assert (line[len(line) // 2] > 127).sum() == pytest.approx(PEN_RATIO * SIDE, abs=1)
    assert line.max() == 255 and line.min() == 0


def test_erased_ink_stays_erased_and_no_longer_counts_for_the_size():
    one = [Stroke([(100, 50), (100, 150)], 4)]
    stray = Stroke([(20, 300), (320, 300)], 4)
    eraser = Stroke([(10, 300), (330, 300)], 30, erasing=True)
    np.testing.assert_array_equal(render_strokes(one + [stray, eraser]), render_strokes(one))
    ink_after = Stroke([(150, 60), (150, 140)], 4)                 # ink drawn after the eraser stays
    assert render_strokes(one + [eraser, ink_after]).shape[1] > render_strokes(one).shape[1]


def test_an_eraser_over_a_thin_stroke_leaves_no_rim_where_the_pen_grew():
    cross = [Stroke([(50, 100), (250, 100)], 4), Stroke([(150, 20), (150, 180)], 4)]
    cut = Stroke([(150, 60), (150, 140)], 6, erasing=True)         # erase the vertical's middle on screen
    image = render_strokes(cross + [cut])
    x = (np.asarray([150, 100]) - 50) * SIDE / 200 + PEN_RATIO * SIDE   # the crossing, in the image
    assert image[round(x[1]), round(x[0])] == 0


def test_nothing_left_is_nothing_drawn():
    erased = [Stroke([(10, 10), (200, 10)], 20), Stroke([(0, 10), (210, 10)], 40, erasing=True)]
    for strokes in ([], [Stroke([(5, 5), (9, 9)], 8, erasing=True)], erased):
        with pytest.raises(NothingDrawn):
            prepare(render_strokes(strokes))


def test_a_dot_is_a_round_blob_not_an_error():
    dot = render_strokes([Stroke([(30, 30)], 26)])
    assert dot.max() == 255 and prepare(dot).max() == 1.0


def test_ink_dragged_past_the_edge_of_the_pad_is_cut_off():
    on_pad = [Stroke([(100, 50), (100, 150)], 26)]
    overshoot = Stroke([(150, 100), (300, 100), (500, 100), (600, 150), (320, 160), (200, 160)], 26)
    cut = within(on_pad + [overshoot], 336, 336)
    assert [s.points.tolist() for s in cut[1:]] == [[[150, 100], [300, 100]], [[320, 160], [200, 160]]]
    np.testing.assert_array_equal(render_strokes(within(on_pad, 336, 336)), render_strokes(on_pad))
    eraser = Stroke([(-50, 100), (400, 100)], 30, erasing=True)    # an eraser past the edge still erases
    assert within(on_pad + [eraser], 336, 336)[-1] is eraser
