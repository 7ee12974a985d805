"""``rectify``, ReLU's max(x, 0) against a block of zeros, and ``memory_order``, which finds the memory it runs along.

Whatever the array's layout, size or dtype, it must give what ``np.maximum(x, 0)``
gives, NaN and infinities included, and write nothing outside ``out``.
"""
import numpy as np
import pytest

from core import memory_order
from core.layers import activations
from core.layers.activations import ZEROS, rectify


def _channels_last(shape, rng):
    n, c, h, w = shape
    return rng.standard_normal((n, h, w, c)).astype(np.float32).transpose(0, 3, 1, 2)


LAYOUTS = {   # name: (make an array, whether memory_order.flat finds it one run of memory)
    "C-contiguous, several blocks and a tail":
        (lambda rng: rng.standard_normal(2 * ZEROS + 7).astype(np.float32), True),
    "a conv output, NCHW over channels-last memory": (lambda rng: _channels_last((3, 5, 40, 41), rng), True),
    "a slice of images of such an output": (lambda rng: _channels_last((6, 5, 7, 7), rng)[2:5], True),
    "float64": (lambda rng: rng.standard_normal((33, 1000)), True),
    "a small Dense output": (lambda rng: rng.standard_normal((4, 10)).astype(np.float32), True),
    "a block of columns": (lambda rng: rng.standard_normal((64, 300)).astype(np.float32)[:, 100:250], False),
    "every other row": (lambda rng: rng.standard_normal((64, 30)).astype(np.float32)[::2], False),
    "empty": (lambda rng: np.zeros((0, 4), np.float32), True),
}


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("in_place", [False, True], ids=["into out", "in place"])
def test_rectify_gives_np_maximum_on_every_layout(name, in_place):
    make, _ = LAYOUTS[name]
    x = make(np.random.default_rng(0))
    if x.size:
        x.flat[:3] = [np.nan, np.inf, -np.inf]
    expected = np.maximum(x, 0)
    out = x if in_place else np.empty_like(x)
    rectify(x, out)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == x.dtype


def test_rectify_leaves_the_rest_of_a_larger_array_alone():
    """A block of columns rectified in place: the other columns keep their negatives."""
    whole = np.random.default_rng(1).standard_normal((32, 200)).astype(np.float32)
    before = whole.copy()
    rectify(whole[:, 50:120], whole[:, 50:120])
    np.testing.assert_array_equal(whole[:, 50:120], np.maximum(before[:, 50:120], 0))
    np.testing.assert_array_equal(whole[:, :50], before[:, :50])
    np.testing.assert_array_equal(whole[:, 120:], before[:, 120:])


@pytest.mark.parametrize("name", LAYOUTS)
def test_flat_is_the_memory_in_order_or_none(name):
    make, one_run = LAYOUTS[name]
    x = make(np.random.default_rng(2))
    flat = memory_order.flat(x)
    assert (flat is not None) == one_run
    if one_run and x.size:
        assert np.shares_memory(flat, x) and flat.size == x.size
        along = x.transpose(memory_order.axes(x))
        np.testing.assert_array_equal(flat, along.reshape(-1))


def test_flat_like_pairs_elements_as_the_logical_arrays_do():
    """Two arrays equal element by element, laid out alike, flatten to equal runs along ``like``'s order."""
    x = _channels_last((2, 3, 4, 5), np.random.default_rng(3))
    out = np.empty_like(x)
    out[...] = x
    np.testing.assert_array_equal(memory_order.flat(out, like=x), memory_order.flat(x))
    assert memory_order.flat(np.ascontiguousarray(x), like=x) is None   # NCHW memory, not x's order


def test_relu_layers_rectify_against_zeros(monkeypatch):
    """ReLU's forward and a fused layer's in_place go through rectify (the vector loop), not the scalar 0."""
    calls = []
    monkeypatch.setattr(activations, "rectify", lambda x, out: calls.append(x.shape) or np.maximum(x, 0, out=out))
    relu = activations.ReLU()
    relu.build((10,))
    relu.forward(np.ones((4, 10), np.float32))
    relu.in_place(np.ones((4, 10), np.float32))
    assert len(calls) == 2
