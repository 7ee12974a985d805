"""A padded convolution's inference output by regions (``core.conv_regions``) against the padded columns' way.

Training's forward makes the output from the padded input's columns, and the
finite-difference checks (``test_gradients.py``) prove it. An inference
forward that takes regions must give the same output on every kernel, stride,
padding and size of a grid, on one thread and on two, and take them only
where they save enough products.
"""
import numpy as np
import pytest
from conv_grid import assert_both_ways_agree, taken_in

from core import Sequential, conv_regions, parallel
from core.layers import Conv2D, Dense, Flatten


def _outputs(kernel, stride, padding, hw):
    """(inference output, training output, whether regions were taken) of one layer of the grid, float64, five
    images of three channels and a ReLU; None where it cannot be built."""
    layer = Conv2D(4, kernel, stride=stride, padding=padding, activation="relu", seed=0)
    try:
        out = layer.build((3, *hw))
    except ValueError:   # a kernel larger than its padded input
        return None
    layer.params = {"W": layer.params["W"].astype(np.float64),
                    "b": np.random.default_rng(2).standard_normal(4)}
    x = np.random.default_rng(1).standard_normal((5, 3, *hw))
    taken = conv_regions.edge_regions(hw, layer.kernel, layer.stride, layer.pads, out[1:]) is not None
    return layer.forward(x), layer.forward(x, training=True), taken


@pytest.mark.parametrize("threads", [1, 2])
def test_the_output_by_regions_equals_the_padded_columns_one(monkeypatch, threads):
    monkeypatch.setattr(conv_regions, "MIN_SAVING", 0.0)   # regions wherever the padding costs a product,
    monkeypatch.setattr(conv_regions, "MIN_FLOPS", 0.0)    # however few the images
    with parallel.using(threads):
        assert_both_ways_agree(["same", 1, 2, 3], _outputs, 200, "regions were taken")


def test_regions_are_taken_where_they_save_enough_products():
    """alexnet_mini's padded stride-2 layers save 18% and 31% of their products; LeNet-5's has no padding."""
    assert taken_in("alexnet_mini", conv_regions.edge_regions) == [True, True]
    assert taken_in("lenet5", conv_regions.edge_regions) == [False]
    # a 'same' 3x3 layer on 28x28 would save 4.7%: not worth the regions' extra products and copies
    assert conv_regions.edge_regions((28, 28), (3, 3), (1, 1), ((1, 1), (1, 1)), (28, 28)) is None


@pytest.mark.parametrize("n, pad, k, s, n_out, expected", [
    # alexnet_mini's second layer: the first window starts in the padding, the last ends in it
    (13, 1, 3, 2, 7, [((0, 1), (1, 3)), ((1, 6), (0, 3)), ((6, 7), (0, 2))]),
    # its third: an input of odd size, as above
    (7, 1, 3, 2, 4, [((0, 1), (1, 3)), ((1, 3), (0, 3)), ((3, 4), (0, 2))]),
    # padding 2 at stride 1: two windows at each edge, each taking a different share of the kernel
    (6, 2, 5, 1, 6, [((0, 1), (2, 5)), ((1, 2), (1, 5)), ((2, 4), (0, 5)), ((4, 5), (0, 4)), ((5, 6), (0, 3))]),
    # no padding: one run, every offset
    (9, 0, 3, 2, 4, [((0, 4), (0, 3))]),
    # 'same' at stride 2 on an even size pads only after: the last window alone ends in it
    (8, 0, 3, 2, 4, [((0, 3), (0, 3)), ((3, 4), (0, 2))]),
])
def test_an_axis_splits_into_runs_of_windows_that_take_the_same_offsets(n, pad, k, s, n_out, expected):
    assert conv_regions._axis_runs(n, pad, k, s, n_out) == expected


def test_an_axis_with_many_windows_in_the_padding_or_one_wholly_in_it_takes_no_regions():
    """A model file may ask for a padding of a billion: the runs are found without a look at each window."""
    assert conv_regions._axis_runs(5, 10 ** 9, 3, 1, 10 ** 9) is None
    assert conv_regions._axis_runs(5, 4, 3, 2, 6) is None        # windows of the padding alone at both ends
    assert conv_regions._axis_runs(4, 3, 3, 1, 8) is None


def test_a_call_of_few_images_keeps_the_padded_columns():
    """Regions make several small products where the padded way makes one: alexnet_mini's second layer takes
    them for 128 images, not for the draw pad's one (1.5-2x its time that way)."""
    layer = Conv2D(64, 3, stride=2, padding=1, seed=0)
    layer.build((32, 13, 13))
    for images, by_regions in [(1, False), (128, True)]:
        layer.scratch.clear()
        layer.forward(np.random.default_rng(0).random((images, 32, 13, 13), dtype=np.float32))
        names = {name for arrays in layer.scratch._by_thread.values() for name in arrays}
        assert ("region cols" in names) == by_regions and ("chunk cols" in names) != by_regions, (images, names)


def test_a_model_predicts_the_same_by_regions_and_keeps_training_on_the_padded_columns(monkeypatch):
    """In a model (several chunks, threads, a smaller last batch), predict by regions gives the training
    forward's outputs; a backward after an inference forward still has columns to read."""
    monkeypatch.setattr(conv_regions, "MIN_FLOPS", 0.0)
    model = Sequential([Conv2D(8, 3, stride=2, padding=1, activation="relu"),
                        Conv2D(16, 3, stride=2, padding=1, activation="relu"), Flatten(), Dense(5)],
                       input_shape=(2, 30, 30), seed=0)
    assert [conv_regions.edge_regions((30, 30), (3, 3), (2, 2), ((1, 1), (1, 1)), (15, 15)) is None,
            conv_regions.edge_regions((15, 15), (3, 3), (2, 2), ((1, 1), (1, 1)), (8, 8)) is None] == [True, False]
    x = np.random.default_rng(3).standard_normal((150, 2, 30, 30)).astype(np.float32)
    expected = model.forward(x, training=True)
    with parallel.using(2):
        got = model.predict(x, batch_size=64)
    logits = np.log(got)
    np.testing.assert_allclose(logits - logits.mean(1, keepdims=True), expected - expected.mean(1, keepdims=True),
                               rtol=1e-4, atol=1e-4)
