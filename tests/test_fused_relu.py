"""A ReLU fused into Dense or Conv2D rectifies each piece of the output as the layer makes it.

It must give the numbers a ReLU after the linear output gives, forward and
backward, on every path a layer computes by: blocks of a product on two
threads, chunks of images, one input channel laid out either way, Winograd's chunks (both tilings).
"""
import numpy as np
import pytest

from core import conv_ops, parallel
from core.layers import Conv2D, Dense, ReLU

CASES = {   # layer, input shape, whether its output is made in more than one piece here
    "dense, blocks of columns": (lambda: Dense(300, "relu"), (64, 200), True),
    "conv, chunks of images": (lambda: Conv2D(16, 3, stride=2, padding=1, activation="relu"), (32, 8, 15, 15), True),
    "conv, one channel, channel by channel": (lambda: Conv2D(5, 3, activation="relu"), (32, 1, 12, 12), True),
    "conv, one channel, channels last": (lambda: Conv2D(12, 3, activation="relu"), (32, 1, 12, 12), True),
    "conv, Winograd F2": (lambda: Conv2D(8, 3, padding="same", activation="relu"), (8, 8, 2, 2), True),
    "conv, Winograd F4": (lambda: Conv2D(8, 3, padding="same", activation="relu"), (8, 8, 8, 8), True),
}


@pytest.fixture
def small_pieces(monkeypatch):
    """Two threads, and every product and batch split as finely as the layers allow."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)
    with parallel.using(2):
        yield


@pytest.mark.parametrize("case", CASES)
def test_fused_relu_equals_relu_after_the_linear_output(small_pieces, monkeypatch, case):
    make, shape, pieces = CASES[case]
    layer = make()
    layer.build(shape[1:])
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)   # about half the outputs negative
    g = rng.standard_normal((shape[0], *layer.output_shape)).astype(np.float32)
    calls = []
    in_place = layer.act.in_place
    monkeypatch.setattr(layer.act, "in_place", lambda y: calls.append(y.size) or in_place(y))

    fused = layer.forward(x, training=True)
    kept = layer.act._out
    dx = layer.backward(g)
    grads = {k: v.copy() for k, v in layer.grads.items()}

    relu = ReLU()
    expected = relu.forward(layer.linear_forward(x), training=True)
    expected_dx = layer.linear_backward(relu.backward(g))
    np.testing.assert_array_equal(fused, expected)
    assert kept is fused and (fused >= 0).all() and (fused == 0).mean() > 0.2
    np.testing.assert_array_equal(dx, expected_dx)
    for name, grad in layer.grads.items():
        np.testing.assert_array_equal(grads[name], grad)
    assert sum(calls) == fused.size and (len(calls) > 1) == pieces   # every piece once, as it was made


def test_only_an_activation_with_in_place_is_fused():
    """Softmax has no in_place: the layer hands it the whole output, as before."""
    layer = Dense(4, "softmax")
    layer.build((3,))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x).sum(axis=1), 1.0, rtol=1e-6)
    assert layer.act.in_place is None


def test_relu_backward_is_laid_out_as_its_output_and_takes_the_gradients_dtype():
    """A convolution's output is channels-last memory; the gradient from above may not be (Flatten's is NCHW).
    ReLU's backward writes its result in the output's order, so the convolution below takes it as it is,
    with no copy of its own on one thread."""
    rng = np.random.default_rng(0)
    x = conv_ops.to_nchw(rng.standard_normal((4, 5, 6, 3)).astype(np.float32))   # NCHW view of NHWC memory
    relu = ReLU()
    relu.build(x.shape[1:])
    relu.forward(x, training=True)
    g = rng.standard_normal(x.shape)   # float64, NCHW memory
    with parallel.using(2):
        dx = relu.backward(g)
    assert conv_ops.to_nhwc(dx).flags.c_contiguous and dx.dtype == np.float64
    np.testing.assert_array_equal(dx, np.where(x > 0, g, 0.0))


class _UninitialisedAsNaN:
    """numpy, but whose ``empty`` returns arrays full of NaN: code that reads memory it did not write shows it."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def empty(shape, dtype=float, **kwargs):
        return np.full(shape, np.nan, dtype, **kwargs)


def test_conv_input_gradient_writes_every_value_of_its_uninitialised_buffer(small_pieces, monkeypatch):
    """Each chunk zeroes its own part of the padded input gradient before adding into it (no zeros for the
    whole batch on one thread): with every np.empty in conv.py full of NaN, dx must come out the same."""
    from core.layers import conv as conv_module
    layer = Conv2D(6, 3, stride=2, padding=1, activation="relu")
    layer.build((4, 9, 9))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 4, 9, 9)).astype(np.float32)
    g = rng.standard_normal((12, *layer.output_shape)).astype(np.float32)
    layer.forward(x, training=True)
    expected = layer.backward(g).copy()
    monkeypatch.setattr(conv_module, "np", _UninitialisedAsNaN())
    layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.backward(g), expected)
