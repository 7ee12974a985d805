"""Forward semantics of every layer, checked against plain loop implementations and hand values."""
import inspect
import json
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from core import Sequential, ShapeError, conv_ops, initializers, parallel
from core.layers import (AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, ReLU,
                         Sigmoid, Softmax, Tanh, from_config, layer_class, layer_types, to_entry)

# ----- loop references ---------------------------------------------------------


def reference_conv(x, w, b, stride, pads):
    """Cross-correlation of NCHW x with W (F, C, kh, kw), pads ((top, bottom), (left, right))."""
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    f, _, kh, kw = w.shape
    sh, sw = stride
    oh, ow = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def reference_pool(x, size, stride, pad, reduce):
    fill = -np.inf if reduce is np.max else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    (kh, kw), (sh, sw) = size, stride
    oh, ow = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out


def built(layer, input_shape):
    layer.build(input_shape)
    return layer


# ----- Conv2D ----------------------------------------------------------------------

# (input shape, layer arguments, output shape, padding Keras/TensorFlow use: ceil(n / stride) outputs,
#  total pad max((out - 1) * stride + k - n, 0), the odd pixel at the bottom/right)
CONV_CASES = {
    "valid": ((1, 5, 5), dict(kernel_size=3), (3, 3), ((0, 0), (0, 0))),
    "valid-stride2": ((1, 6, 6), dict(kernel_size=3, stride=2), (2, 2), ((0, 0), (0, 0))),
    "same": ((1, 5, 5), dict(kernel_size=3, padding="same"), (5, 5), ((1, 1), (1, 1))),
    "same-stride2-even-input": ((1, 6, 6), dict(kernel_size=3, stride=2, padding="same"), (3, 3), ((0, 1), (0, 1))),
    "same-stride2-odd-input": ((1, 5, 5), dict(kernel_size=3, stride=2, padding="same"), (3, 3), ((1, 1), (1, 1))),
    "same-even-kernel": ((1, 5, 5), dict(kernel_size=4, padding="same"), (5, 5), ((1, 2), (1, 2))),
    "same-stride3": ((1, 8, 8), dict(kernel_size=5, stride=3, padding="same"), (3, 3), ((1, 2), (1, 2))),
    "same-no-pad-needed": ((1, 4, 4), dict(kernel_size=2, stride=2, padding="same"), (2, 2), ((0, 0), (0, 0))),
    "same-non-square": ((2, 7, 6), dict(kernel_size=(3, 2), stride=(2, 3), padding="same"), (4, 2), ((1, 1), (0, 0))),
    "int-padding": ((3, 5, 5), dict(kernel_size=3, stride=2, padding=2), (4, 4), ((2, 2), (2, 2))),
    "three-channels": ((3, 6, 5), dict(kernel_size=(2, 3)), (5, 3), ((0, 0), (0, 0))),
}


@pytest.mark.parametrize("in_shape, kwargs, out_hw, pads", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d_matches_loop_reference(in_shape, kwargs, out_hw, pads):
    layer = built(Conv2D(4, **kwargs), in_shape)
    assert layer.output_shape == (4, *out_hw)
    rng = np.random.default_rng(0)
    layer.params["b"][:] = rng.standard_normal(4)
    x = rng.standard_normal((2, *in_shape)).astype(np.float32)
    out = layer.forward(x)
    assert out.shape == (2, 4, *out_hw) and out.dtype == np.float32
    w, b = layer.params["W"], layer.params["b"]
    assert_allclose(out, reference_conv(x, w, b, layer.stride, pads), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("filters", [3, 8], ids=["channel-major", "channels-last"])
def test_single_channel_conv2d_in_chunks_on_two_threads_matches_loop_reference(filters, monkeypatch):
    """A single channel's columns are one strided copy into a chunk's slice of the batch (not contiguous): with
    one image a chunk, shared by two threads, every image's output is still the loop reference's."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)
    layer = built(Conv2D(filters, (4, 3), stride=(2, 3), padding=1, activation="relu"), (1, 11, 10))
    rng = np.random.default_rng(2)
    layer.params["b"][:] = rng.standard_normal(filters)
    x = rng.standard_normal((5, 1, 11, 10)).astype(np.float32)
    with parallel.using(2):
        out = layer.forward(x)
    w, b = layer.params["W"], layer.params["b"]
    assert_allclose(out, np.maximum(reference_conv(x, w, b, layer.stride, ((1, 1), (1, 1))), 0), rtol=1e-5, atol=1e-5)


def test_conv2d_reads_a_channels_last_view_like_a_contiguous_array():
    first, second = built(Conv2D(3, 3), (2, 8, 8)), built(Conv2D(4, 3, stride=2, padding=1), (3, 6, 6))
    x = np.random.default_rng(1).standard_normal((2, 2, 8, 8)).astype(np.float32)
    h = first.forward(x)
    assert_allclose(second.forward(h), second.forward(np.ascontiguousarray(h)), rtol=1e-6)


def test_param_layouts():
    conv = built(Conv2D(6, (3, 2)), (4, 9, 9))
    dense = built(Dense(7), (5,))
    bn = built(BatchNorm(), (6, 3, 3))
    assert conv.params["W"].shape == (6, 4, 3, 2) and conv.params["b"].shape == (6,)
    assert dense.params["W"].shape == (5, 7) and dense.params["b"].shape == (7,)
    assert bn.params["gamma"].shape == bn.params["beta"].shape == (6,)
    assert bn.buffers["mean"].shape == bn.buffers["var"].shape == (6,)
    assert conv.count_params() == 6 * 4 * 3 * 2 + 6 and dense.count_params() == 42 and bn.count_params() == 12
    assert all(p.dtype == np.float32 for layer in (conv, dense, bn) for p in layer.params.values())


def test_dense_is_x_w_plus_b():
    layer = built(Dense(3), (4,))
    layer.params["b"][:] = [1, 2, 3]
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    assert_allclose(layer.forward(x), x @ layer.params["W"] + layer.params["b"], rtol=1e-6)


# ----- pooling -------------------------------------------------------------------------

def test_pooling_hand_values():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    assert_array_equal(built(MaxPool2D(2), (1, 4, 4)).forward(x)[0, 0], [[5, 7], [13, 15]])
    assert_array_equal(built(AvgPool2D(2), (1, 4, 4)).forward(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    assert_array_equal(built(MaxPool2D(3, stride=1), (1, 4, 4)).forward(x)[0, 0], [[10, 11], [14, 15]])


def test_avg_pool_counts_padded_zeros():
    ones = np.ones((1, 1, 2, 2), np.float32)
    out = built(AvgPool2D(2, padding=1), (1, 2, 2)).forward(ones)
    assert_array_equal(out[0, 0], [[0.25, 0.25], [0.25, 0.25]])


def test_max_pool_ignores_padding_even_for_negative_inputs():
    x = -np.ones((1, 1, 2, 2), np.float32)
    assert_array_equal(built(MaxPool2D(2, padding=1), (1, 2, 2)).forward(x), -np.ones((1, 1, 2, 2)))


POOL_CASES = {
    "2x2": ((2, 4, 4), dict(pool_size=2), (2, 2)),
    "odd-input": ((2, 5, 5), dict(pool_size=2), (2, 2)),
    "overlap": ((2, 5, 5), dict(pool_size=3, stride=1), (3, 3)),
    "overlap-stride2": ((1, 7, 7), dict(pool_size=3, stride=2), (3, 3)),
    "padding": ((2, 5, 5), dict(pool_size=2, padding=1), (3, 3)),
    "padding-overlap": ((1, 6, 6), dict(pool_size=3, stride=2, padding=1), (3, 3)),
    "stride-larger-than-size": ((2, 7, 7), dict(pool_size=2, stride=3), (2, 2)),
    "non-square": ((1, 5, 7), dict(pool_size=(2, 3), stride=(1, 2)), (4, 3)),
}


@pytest.mark.parametrize("kind, reduce", [(MaxPool2D, np.max), (AvgPool2D, np.mean)], ids=["max", "avg"])
@pytest.mark.parametrize("in_shape, kwargs, out_hw", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pooling_matches_loop_reference(kind, reduce, in_shape, kwargs, out_hw):
    layer = built(kind(**kwargs), in_shape)
    assert layer.output_shape == (in_shape[0], *out_hw)
    x = np.random.default_rng(3).standard_normal((2, *in_shape)).astype(np.float32)
    out = layer.forward(x)
    assert out.shape == (2, in_shape[0], *out_hw) and out.dtype == np.float32
    assert_allclose(out, reference_pool(x, layer.pool, layer.stride, layer.padding, reduce), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("size, stride, expected", [(2, 2, [[1, 0, 1, 0], [0, 0, 0, 0]] * 2),
                                                    (3, 1, [[1, 1, 0, 0], [1, 1, 0, 0], [0] * 4, [0] * 4])],
                         ids=["tiled", "overlapping"])
def test_max_pool_tie_sends_gradient_to_first_maximum(size, stride, expected):
    layer = built(MaxPool2D(size, stride=stride), (1, 4, 4))
    layer.forward(np.zeros((1, 1, 4, 4), np.float32))
    dx = layer.backward(np.ones((1, *layer.output_shape), np.float32))
    assert_array_equal(dx[0, 0], expected)


WINDOW_LAYOUTS = {"tiled": (2, 2, 0, (8, 8)), "gaps": (2, 3, 0, (8, 8)), "gaps-rows": (2, (3, 2), 0, (8, 8)),
                  "gaps-cols": ((3, 2), (2, 3), 0, (7, 8)), "gaps-padded": (2, 3, 1, (8, 8)),
                  "edge-left-over": (2, 2, 0, (7, 9)), "overlap": (3, 2, 1, (8, 8))}


@pytest.mark.parametrize("kind", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("size, stride, padding, hw", WINDOW_LAYOUTS.values(), ids=WINDOW_LAYOUTS.keys())
def test_pool_backward_never_returns_uninitialised_memory(kind, size, stride, padding, hw, monkeypatch):
    """np.empty may hand back anything: poison it, and the gradient must still be exact."""
    monkeypatch.setattr(np, "empty", lambda shape, dtype=float: np.full(shape, np.nan, dtype))
    layer = built(kind(size, stride=stride, padding=padding), (1, *hw))
    x = np.random.default_rng(4).standard_normal((2, 1, *hw)).astype(np.float32)
    layer.forward(x)
    dx = layer.backward(np.ones((2, *layer.output_shape), np.float32))
    windows = np.zeros((2, 1, hw[0] + 2 * padding, hw[1] + 2 * padding))   # windows over each pixel
    (sh, sw), (kh, kw) = layer.stride, layer.pool
    for i in range(layer.output_shape[1]):
        for j in range(layer.output_shape[2]):
            windows[..., i * sh:i * sh + kh, j * sw:j * sw + kw] += 1
    windows = windows[..., padding:padding + hw[0], padding:padding + hw[1]]
    assert np.isfinite(dx).all(), f"{kind.__name__} backward returned uninitialised values"
    if kind is AvgPool2D:
        assert_allclose(dx, windows / (kh * kw), rtol=1e-6)
    else:   # each window hands its 1 to one pixel it covers (padding never wins)
        assert (dx[windows == 0] == 0).all(), "pixels no window covers must get zero gradient"
        assert_allclose(dx.sum(), 2 * np.prod(layer.output_shape), rtol=1e-6)


# ----- Dropout ---------------------------------------------------------------------------

def test_dropout_training_drops_and_scales_up_the_rest():
    layer = built(Dropout(0.25, seed=0), (200,))
    x = np.ones((500, 200), np.float32)
    out = layer.forward(x, training=True)
    kept = out != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, abs=0.02)
    assert_array_equal(layer.backward(x), out)   # the same mask, the same scale


def test_dropout_after_a_convolution_keeps_its_channels_last_memory():
    """The mask is drawn in the input's memory order: output and mask keep a conv's channels-last layout
    (a mask in another order makes every multiply cross rows, and hands the next layer a transposed array)."""
    layer = built(Dropout(0.25, seed=0), (8, 6, 6))
    x = np.ones((50, 6, 6, 8), np.float32).transpose(0, 3, 1, 2)   # logical NCHW, channels-last memory
    out = layer.forward(x, training=True)
    assert np.argsort(out.strides).tolist() == np.argsort(x.strides).tolist() == [1, 3, 2, 0]
    assert (out != 0).mean() == pytest.approx(0.75, abs=0.02)
    assert_array_equal(layer.backward(x), out)


def test_dropout_is_the_identity_at_inference():
    layer = built(Dropout(0.5, seed=0), (3, 4, 4))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    assert_array_equal(layer.forward(x), x)
    assert_array_equal(layer.backward(x), x)


def test_dropout_seed_gives_the_same_mask():
    x = np.ones((4, 50), np.float32)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    assert_array_equal(a.forward(x, training=True), b.forward(x, training=True))


# ----- BatchNorm ------------------------------------------------------------------------

def _stats_input(shape, n, rng):
    """Features/channels with very different means and scales."""
    c = shape[0]
    scale = np.linspace(0.5, 4, c).reshape(c, *[1] * (len(shape) - 1))
    shift = np.linspace(-3, 5, c).reshape(c, *[1] * (len(shape) - 1))
    return (rng.standard_normal((n, *shape)) * scale + shift).astype(np.float32)


@pytest.mark.parametrize("shape, axes", [((4,), (0,)), ((3, 5, 5), (0, 2, 3))], ids=["after-dense", "after-conv"])
def test_batchnorm_training_uses_batch_statistics(shape, axes):
    layer = built(BatchNorm(momentum=0.9), shape)
    layer.params["gamma"][:] = 2
    layer.params["beta"][:] = 3
    x = _stats_input(shape, 64, np.random.default_rng(0))
    out = layer.forward(x, training=True)
    assert_allclose(out.mean(axis=axes), 3, atol=1e-4)
    assert_allclose(out.std(axis=axes), 2, rtol=1e-3)
    # running = momentum * running + (1 - momentum) * batch, from mean 0 and var 1 (batch variance, biased)
    assert_allclose(layer.buffers["mean"], 0.1 * x.mean(axis=axes), rtol=1e-5, atol=1e-6)
    assert_allclose(layer.buffers["var"], 0.9 + 0.1 * x.var(axis=axes), rtol=1e-5)


@pytest.mark.parametrize("shape", [(4,), (3, 5, 5)], ids=["after-dense", "after-conv"])
def test_batchnorm_inference_uses_running_statistics(shape):
    layer = built(BatchNorm(epsilon=1e-3), shape)
    c = shape[0]
    mean, var = np.linspace(-1, 1, c).astype(np.float32), np.linspace(0.5, 2, c).astype(np.float32)
    layer.buffers.update(mean=mean.copy(), var=var.copy())
    layer.params["gamma"][:], layer.params["beta"][:] = 1.5, -0.5
    x = _stats_input(shape, 8, np.random.default_rng(1))
    out = layer.forward(x, training=False)
    col = (slice(None), *[None] * (len(shape) - 1))
    assert_allclose(out, 1.5 * (x - mean[col]) / np.sqrt(var[col] + 1e-3) - 0.5, rtol=1e-5, atol=1e-5)
    assert_array_equal(layer.buffers["mean"], mean)
    assert_array_equal(layer.buffers["var"], var)


def test_batchnorm_after_conv_reads_a_channels_last_view():
    conv, bn = built(Conv2D(3, 3), (1, 6, 6)), built(BatchNorm(), (3, 4, 4))
    h = conv.forward(np.random.default_rng(0).random((4, 1, 6, 6)).astype(np.float32))
    out_view = bn.forward(h, training=True)
    out_copy = built(BatchNorm(), (3, 4, 4)).forward(np.ascontiguousarray(h), training=True)
    assert_allclose(out_view, out_copy, rtol=1e-5, atol=1e-6)


# ----- activations ---------------------------------------------------------------------

def test_activation_values():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], np.float32)
    assert_array_equal(built(ReLU(), (5,)).forward(x), [[0, 0, 0, 0.5, 3]])
    assert_allclose(built(LeakyReLU(0.1), (5,)).forward(x), [[-0.2, -0.05, 0, 0.5, 3]], rtol=1e-6)
    assert_allclose(built(Sigmoid(), (5,)).forward(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    assert_allclose(built(Tanh(), (5,)).forward(x), np.tanh(x), rtol=1e-6)
    p = built(Softmax(), (5,)).forward(x)
    assert_allclose(p, np.exp(x) / np.exp(x).sum(), rtol=1e-6)


def test_softmax_and_sigmoid_are_stable_for_huge_inputs():
    x = np.array([[1e4, -1e4, 0.0]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert_allclose(built(Softmax(), (3,)).forward(x), [[1, 0, 0]])
        assert_allclose(built(Sigmoid(), (3,)).forward(x), [[1, 0, 0.5]])


ACTIVATION_LAYERS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}


@pytest.mark.parametrize("name", ACTIVATION_LAYERS)
def test_dense_activation_shorthand_equals_a_separate_layer(name):
    dense = built(Dense(4, activation=name, seed=0), (6,))
    plain = built(Dense(4, seed=0), (6,))
    plain.params = {k: v.copy() for k, v in dense.params.items()}
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    act = built(ACTIVATION_LAYERS[name](), (4,))
    assert_allclose(dense.forward(x), act.forward(plain.forward(x)), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_conv_activation_shorthand_equals_a_separate_layer(name):
    conv = built(Conv2D(2, 3, activation=name, seed=0), (1, 5, 5))
    plain = built(Conv2D(2, 3, seed=0), (1, 5, 5))
    plain.params = {k: v.copy() for k, v in conv.params.items()}
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    assert_allclose(conv.forward(x), ACTIVATION_LAYERS[name]().forward(plain.forward(x)), rtol=1e-6)


@pytest.mark.parametrize("activation", [None, "linear"])
def test_no_activation(activation):
    layer = built(Dense(3, activation=activation), (2,))
    x = np.array([[-5.0, 1.0]], np.float32)
    assert_allclose(layer.forward(x), x @ layer.params["W"], rtol=1e-6)
    assert layer.get_config()["activation"] is None


def test_default_initialiser_follows_the_activation():
    """He before the ReLU family, Glorot before tanh and sigmoid, LeCun (fan-in) before nothing:
    a linear layer then keeps its input's scale (Glorot, before this, made LeNet-5's convs too small)."""
    assert Dense(3, activation="relu").init == "he_uniform"
    assert Conv2D(3, 3, activation="leaky_relu").init == "he_uniform"
    assert Dense(3, activation="tanh").init == Dense(3, activation="sigmoid").init == "glorot_uniform"
    assert Dense(3).init == Conv2D(3, 3).init == "lecun_uniform"
    assert Dense(3, activation="relu", init="normal").init == "normal"


SPELLINGS = {
    "dense-relu": ([Flatten(), Dense(8, "relu"), Dense(3)], [Flatten(), Dense(8), ReLU(), Dense(3)]),
    "conv-pool-relu": ([Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(3)],
                       [Conv2D(4, 3), MaxPool2D(2), ReLU(), Flatten(), Dense(3)]),
    "conv-batchnorm-relu": ([Conv2D(4, 3, activation="leaky_relu"), BatchNorm(), Flatten(), Dense(3)],
                            [Conv2D(4, 3), BatchNorm(), Dropout(0.1), LeakyReLU(), Flatten(), Dense(3)]),
    "dense-tanh": ([Flatten(), Dense(8, "tanh"), Dense(3)], [Flatten(), Dense(8), Tanh(), Dense(3)]),
}


@pytest.mark.parametrize("fused, spelled", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_the_default_initialiser_does_not_depend_on_how_the_activation_is_written(fused, spelled):
    """``Dense(n, activation="relu")`` and ``Dense(n), ReLU()`` are one network: same initialisers,
    and with the same seed (and position) the same starting weights."""
    a, b = (Sequential(layers, input_shape=(1, 6, 6), seed=0) for layers in (fused, spelled))
    a_w, b_w = ([layer for layer in m.layers if "W" in layer.params] for m in (a, b))
    assert [layer.init for layer in a_w] == [layer.init for layer in b_w]
    assert_allclose(a_w[0].params["W"], b_w[0].params["W"])


def test_a_model_assembled_with_add_starts_as_one_built_from_a_list():
    """add builds as it goes: Dense(8) first meets nothing (LeCun), then ReLU arrives; its weights are drawn
    again with He, as the list form draws them, while the model is not compiled yet."""
    listed = Sequential([Flatten(), Dense(8), ReLU(), Dense(3)], input_shape=(1, 4, 4), seed=0)
    added = Sequential(input_shape=(1, 4, 4), seed=0)
    for layer in (Flatten(), Dense(8), ReLU(), Dense(3)):
        added.add(layer)
    assert added.layers[1].init == listed.layers[1].init == "he_uniform"
    assert_array_equal(added.layers[1].params["W"], listed.layers[1].params["W"])
    compiled = Sequential([Flatten(), Dense(8)], input_shape=(1, 4, 4), seed=0)
    compiled.compile("sgd")
    before = compiled.layers[1].params["W"].copy()
    compiled.add(ReLU())   # a compiled model's weights are never redrawn
    assert_array_equal(compiled.layers[1].params["W"], before)
    assert compiled.layers[1].init == "lecun_uniform"   # and its config says how they were drawn


def test_an_initialiser_chosen_by_the_user_or_loaded_is_kept():
    model = Sequential([Flatten(), Dense(8, init="glorot_normal"), ReLU(), Dense(3)], input_shape=(4,))
    assert model.layers[1].init == "glorot_normal"
    twin = Sequential.from_config(Sequential([Flatten(), Dense(8), ReLU()], input_shape=(4,)).get_config())
    assert twin.layers[1].init == "he_uniform"   # the config records what was used


# ----- initialisers ------------------------------------------------------------------

DENSE_SHAPE, CONV_SHAPE = (400, 300), (64, 32, 3, 3)   # conv fans: in 32*9 = 288, out 64*9 = 576


def _fans(shape):
    return (shape[0], shape[1]) if len(shape) == 2 else (shape[1] * 9, shape[0] * 9)


@pytest.mark.parametrize("shape", [DENSE_SHAPE, CONV_SHAPE], ids=["dense", "conv"])
@pytest.mark.parametrize("name", ["glorot_uniform", "he_uniform", "lecun_uniform", "uniform"])
def test_uniform_initialisers(name, shape):
    fan_in, fan_out = _fans(shape)
    limit = {"glorot_uniform": np.sqrt(6 / (fan_in + fan_out)), "he_uniform": np.sqrt(6 / fan_in),
             "lecun_uniform": np.sqrt(3 / fan_in), "uniform": 0.05}[name]
    w = initializers.initialize(name, shape, np.random.default_rng(0))
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.std() == pytest.approx(limit / np.sqrt(3), rel=0.03)


@pytest.mark.parametrize("shape", [DENSE_SHAPE, CONV_SHAPE], ids=["dense", "conv"])
@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal", "normal"])
def test_normal_initialisers(name, shape):
    fan_in, fan_out = _fans(shape)
    std = {"glorot_normal": np.sqrt(2 / (fan_in + fan_out)), "he_normal": np.sqrt(2 / fan_in),
           "lecun_normal": np.sqrt(1 / fan_in), "normal": 0.05}[name]
    w = initializers.initialize(name, shape, np.random.default_rng(0))
    assert w.shape == shape and w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.03)
    assert abs(w.mean()) < 0.05 * std


def test_every_initialiser_is_tested():
    tested = {"glorot_uniform", "he_uniform", "lecun_uniform", "uniform", "glorot_normal", "he_normal",
              "lecun_normal", "normal", "zeros"}
    assert set(initializers.NAMES) == tested


def test_zeros_initialiser_and_unknown_name():
    assert not initializers.initialize("zeros", (3, 4), np.random.default_rng(0)).any()
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.initialize("xavier", (3, 4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="xavier"):
        Dense(3, init="xavier")


def test_layers_use_their_initialiser():
    conv = built(Conv2D(64, 3, init="he_normal", seed=0), (32, 8, 8))
    dense = built(Dense(300, init="glorot_uniform", seed=0), (400,))
    assert conv.params["W"].std() == pytest.approx(np.sqrt(2 / 288), rel=0.03)
    assert np.abs(dense.params["W"]).max() <= np.sqrt(6 / 700)
    assert not conv.params["b"].any() and not dense.params["b"].any()


# ----- Flatten -------------------------------------------------------------------------

def test_flatten_order_is_channels_height_width():
    layer = built(Flatten(), (2, 3, 4))
    x = np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4)
    out = layer.forward(x)
    assert out.shape == (2, 24) and layer.output_shape == (24,)
    assert out[1, 1 * 12 + 2 * 4 + 3] == x[1, 1, 2, 3]
    assert_array_equal(layer.backward(out), x)


def test_flatten_of_a_channels_last_view_keeps_channels_height_width_order():
    nhwc = np.arange(48, dtype=np.float32).reshape(2, 3, 4, 2)
    nchw_view = nhwc.transpose(0, 3, 1, 2)
    out = built(Flatten(), (2, 3, 4)).forward(nchw_view)
    assert_array_equal(out, np.ascontiguousarray(nchw_view).reshape(2, -1))


# ----- wrong architectures -------------------------------------------------------------

def _shape_error(layers, input_shape):
    with pytest.raises(ShapeError) as info:
        Sequential(layers, input_shape=input_shape)
    return info.value


def test_kernel_larger_than_input_names_layer_and_shapes():
    err = _shape_error([Conv2D(2, 3), Conv2D(2, 3), Conv2D(2, 5)], (1, 7, 7))
    assert str(err) == "Conv2D #3: kernel 5x5 is larger than its 3x3 input"
    assert err.layer_index == 3


@pytest.mark.parametrize("layers, input_shape, pieces, index", [
    ([Dense(10)], (1, 28, 28), ["Dense #1", "(1, 28, 28)", "Flatten"], 1),
    ([Conv2D(2, 3), MaxPool2D(3)], (1, 4, 4), ["MaxPool2D #2", "3x3", "2x2"], 2),
    ([Flatten(), Conv2D(2, 3)], (1, 8, 8), ["Conv2D #2", "(64)"], 2),
    ([Conv2D(2, 3), Softmax()], (1, 8, 8), ["Softmax #2", "(2, 6, 6)"], 2),
    ([BatchNorm()], (3, 4), ["BatchNorm #1", "(3, 4)"], 1),
    ([AvgPool2D(2, padding=2)], (1, 8, 8), ["AvgPool2D #1", "padding 2"], 1),
], ids=["dense-on-image", "pool-too-big", "conv-on-flat", "softmax-on-image", "batchnorm-rank2", "pool-padding"])
def test_wrong_architecture_fails_at_construction(layers, input_shape, pieces, index):
    err = _shape_error(layers, input_shape)
    for piece in pieces:
        assert piece in str(err)
    assert err.layer_index == index


def test_adding_a_layer_that_does_not_fit_names_it():
    model = Sequential([Conv2D(2, 3)], input_shape=(1, 4, 4))
    with pytest.raises(ShapeError, match=re.escape("Conv2D #2: kernel 3x3 is larger than its 2x2 input")):
        model.add(Conv2D(2, 3))


# ----- bad arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("make, pattern", [
    (lambda: Conv2D(0, 3), "filters"),
    (lambda: Conv2D(4, 0), "kernel_size"),
    (lambda: Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: Conv2D(4, 3, stride=0), "stride"),
    (lambda: Conv2D(4, 3, padding="foo"), "padding"),
    (lambda: Conv2D(4, 3, padding=-1), "padding"),
    (lambda: Conv2D(4, 3, activation="swish"), "swish"),
    (lambda: Dense(0), "units"),
    (lambda: Dropout(1.5), "rate"),
    (lambda: Dropout(-0.1), "rate"),
    (lambda: Dropout(1.0), "rate"),
    (lambda: MaxPool2D(0), "pool_size"),
    (lambda: AvgPool2D(2, stride=0), "stride"),
    (lambda: MaxPool2D(2, padding="same"), "padding"),
    (lambda: LeakyReLU(alpha=1.5), "alpha"),
    (lambda: BatchNorm(momentum=1.0), "momentum"),
])
def test_bad_layer_argument_is_a_value_error(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


NOT_INTS = [0, -1, 2.5, 3.0, True, "8", None, [8], float("nan")]
NOT_PAIRS = [0, -1, (3, 0), (3,), (3, 3, 3), 2.5, (2.0, 2), True, (True, 2), "3", "33", None, {}, [1, [2]],
             np.array(2), np.array([[2, 2]]), np.array([2.0, 2.0]), np.array([2, 0])]
NOT_FRACTIONS = [1.0, -0.1, 1.5, float("nan"), "0.5", True, None, [0.5]]
NOT_SEEDS = [-1, 1.5, "0", True]
PARAM_LAYER_ARGS = {"activation": ["swish", "ReLU", "", 3, True], "init": ["xavier", "", 1, True], "seed": NOT_SEEDS}
BAD_ARGUMENTS = {   # every constructor argument of every layer type, with values it must refuse
    Conv2D: (dict(filters=4, kernel_size=3), {
        "filters": NOT_INTS, "kernel_size": NOT_PAIRS, "stride": NOT_PAIRS,
        "padding": ["foo", "VALID", -1, 1.5, True, None, (1, 1)], **PARAM_LAYER_ARGS}),
    Dense: (dict(units=4), {"units": NOT_INTS, **PARAM_LAYER_ARGS}),
    MaxPool2D: (dict(), {"pool_size": NOT_PAIRS, "stride": NOT_PAIRS,
                         "padding": ["same", -1, 1.5, True, None]}),
    AvgPool2D: (dict(), {"pool_size": NOT_PAIRS, "stride": [0, (2, 0), 1.5, "2"], "padding": [-1, False]}),
    Dropout: (dict(), {"rate": NOT_FRACTIONS, "seed": NOT_SEEDS}),
    BatchNorm: (dict(), {"momentum": NOT_FRACTIONS,
                         "epsilon": [0, -1e-5, float("inf"), float("nan"), "1e-5", True, None]}),
    LeakyReLU: (dict(), {"alpha": NOT_FRACTIONS}),
}
BAD_CASES = [(cls, base, arg, bad) for cls, (base, table) in BAD_ARGUMENTS.items()
             for arg, values in table.items() for bad in values if not (arg == "stride" and bad is None)]


@pytest.mark.parametrize("cls, base, arg, bad", BAD_CASES,
                         ids=[f"{c.__name__}-{a}={b!r}" for c, _, a, b in BAD_CASES])
def test_a_bad_argument_names_the_layer_the_argument_and_the_value(cls, base, arg, bad):
    with pytest.raises(ValueError) as err:
        cls(**{**base, arg: bad})
    message = str(err.value)
    assert message.startswith(f"{cls.__name__}: {arg} must be "), message
    assert message.endswith(f"got {bad!r}"), message


def test_the_bad_argument_table_covers_every_argument_of_every_layer():
    for name in layer_types():
        cls = layer_class(name)
        arguments = set(inspect.signature(cls).parameters)
        assert arguments == set(BAD_ARGUMENTS.get(cls, ({}, {}))[1]), f"{name}: untested arguments"


@pytest.mark.parametrize("make, expected", [
    (lambda: Conv2D(np.int64(4), np.int32(3), stride=[1, 2], padding=np.int64(1), seed=np.int64(3)),
     {"filters": 4, "kernel_size": [3, 3], "stride": [1, 2], "padding": 1}),
    (lambda: Conv2D(4, np.array([3, 2]), padding="same"), {"kernel_size": [3, 2], "padding": "same"}),
    (lambda: Dense(np.uint8(7), activation="linear"), {"units": 7, "activation": None}),
    (lambda: MaxPool2D((np.int64(2), 3), stride=None, padding=np.int64(1)),
     {"pool_size": [2, 3], "stride": [2, 3], "padding": 1}),
    (lambda: Dropout(np.float32(0.25)), {"rate": 0.25}),
    (lambda: Dropout(0), {"rate": 0.0}),
    (lambda: BatchNorm(np.float64(0.5), np.float32(1e-3)), {"momentum": 0.5}),
    (lambda: LeakyReLU(np.float16(0.5)), {"alpha": 0.5}),
], ids=["numpy-ints", "array-pair", "numpy-units", "pool-numpy", "numpy-rate", "int-rate", "numpy-bn",
        "numpy-alpha"])
def test_numpy_numbers_and_sequences_are_accepted_as_plain_values(make, expected):
    config = make().get_config()
    assert {k: config[k] for k in expected} == expected
    assert json.loads(json.dumps(config)) == config       # plain Python values: JSON-able


# ----- configs ---------------------------------------------------------------------------

CONFIG_LAYERS = [Conv2D(4, (3, 2), stride=2, padding="same", activation="relu", init="he_normal"),
                 Conv2D(4, 3, padding=1), MaxPool2D(3, stride=2, padding=1), AvgPool2D((2, 3)),
                 Dense(7, activation="softmax"), Flatten(), Dropout(0.3), BatchNorm(0.8, 1e-3), ReLU(),
                 LeakyReLU(0.2), Sigmoid(), Tanh(), Softmax()]


@pytest.mark.parametrize("layer", CONFIG_LAYERS, ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    entry = json.loads(json.dumps(to_entry(layer)))
    twin = from_config(entry)
    assert type(twin) is type(layer)
    assert twin.get_config() == layer.get_config()


@pytest.mark.parametrize("entry, message", [
    ({"type": "ReLU", "config": {"alpha": 0.1}}, "ReLU: unknown argument alpha; it takes none"),
    ({"type": "Conv2D", "config": {"filters": 2, "kernal_size": 3}},
     "Conv2D: unknown argument kernal_size; it takes filters, kernel_size, stride, padding, activation, init, seed"),
    ({"type": "Dense", "config": {"units": 2, "x": 1, "y": 2}}, "Dense: unknown arguments x, y; it takes units"),
])
def test_a_config_argument_the_layer_does_not_take_is_named(entry, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        from_config(entry)


def test_every_layer_type_is_registered():
    assert set(layer_types()) == {"Conv2D", "MaxPool2D", "AvgPool2D", "Dense", "Flatten", "Dropout", "BatchNorm",
                                  "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax"}
    with pytest.raises(ValueError, match="Conv3D"):
        from_config({"type": "Conv3D", "config": {}})


# ----- float32 end to end -------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_every_layer_keeps_float32(training):
    model = Sequential([Conv2D(4, 3, padding="same", activation="leaky_relu"), BatchNorm(), MaxPool2D(2),
                        Conv2D(4, 2, stride=2, activation="sigmoid"), AvgPool2D(2, stride=1), Tanh(), ReLU(),
                        Flatten(), Dropout(0.5), Dense(8, activation="tanh"), BatchNorm(), LeakyReLU(), Sigmoid(),
                        Dense(3), Softmax()], input_shape=(2, 9, 9), seed=0)
    model.layers[0].need_input_grad = True
    x = np.random.default_rng(0).random((4, 2, 9, 9)).astype(np.float32)
    for layer in model.layers:
        x = layer.forward(x, training)
        assert x.dtype == np.float32, f"{layer.name} forward gives {x.dtype}"
    grad = np.ones_like(x)
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
        assert grad.dtype == np.float32, f"{layer.name} backward gives {grad.dtype}"
        assert all(g.dtype == np.float32 for g in layer.grads.values()), f"{layer.name} gradients"


def test_pool_padding_must_be_a_number_not_a_flag():
    from core.layers import MaxPool2D
    with pytest.raises(ValueError, match="padding"):
        MaxPool2D(2, padding=True)
