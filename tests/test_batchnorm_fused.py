"""BatchNorm's fused training passes: the same numbers as the textbook formulas, in less memory.

The reference below is the plain computation in float64, written out pass by
pass; the layer runs in float32 on channels-last memory as a model feeds it.
"""
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import parallel
from core.layers import BatchNorm, ReLU


def _reference(x, gamma, beta, grad, eps, mean=None, var=None):
    """Forward output, d/dx, d/dgamma, d/dbeta, batch mean and variance, in float64, axis 1 the channels."""
    axes = (0, 2, 3) if x.ndim == 4 else (0,)
    shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
    x, grad = x.astype(np.float64), grad.astype(np.float64)
    batch_stats = mean is None
    if batch_stats:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    out = xhat * gamma.reshape(shape) + beta.reshape(shape)
    dxhat = grad * gamma.reshape(shape)
    if batch_stats:
        dx = (dxhat - dxhat.mean(axis=axes, keepdims=True)
              - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) * inv_std.reshape(shape)
    else:
        dx = dxhat * inv_std.reshape(shape)
    return out, dx, (grad * xhat).sum(axis=axes), grad.sum(axis=axes), mean, var


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if a.ndim == 4 else a


def _column_major(a):
    return np.asfortranarray(a)


# Shapes whose rows fill several of _wide_blocks' blocks (and not), whose wide rows leave a tail (and not),
# and a column-major Dense output, whose rows cannot be widened.
SHAPES = {"conv": ((64, 6, 9, 9), _channels_last), "small conv": ((5, 3, 4, 4), _channels_last),
          "conv, several blocks": ((40, 32, 24, 24), _channels_last), "dense": ((200, 17), _channels_last),
          "dense, column-major": ((200, 17), _column_major)}


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_fused_batchnorm_matches_the_plain_float64_formulas(name, training):
    shape, layout = SHAPES[name]
    rng = np.random.default_rng(0)
    layer = BatchNorm(momentum=0.8)
    layer.build(shape[1:])
    c = shape[1]
    layer.params["gamma"][:] = rng.uniform(0.5, 2, c)
    layer.params["beta"][:] = rng.standard_normal(c)
    layer.buffers["mean"][:] = rng.standard_normal(c)
    layer.buffers["var"][:] = rng.uniform(0.5, 2, c)
    running = {k: v.astype(np.float64) for k, v in layer.buffers.items()}
    x = layout((rng.standard_normal(shape) * 3 + 5).astype(np.float32))   # an offset mean
    grad = layout(rng.standard_normal(shape).astype(np.float32))
    stats = {} if training else {"mean": running["mean"], "var": running["var"]}
    out, dx, dgamma, dbeta, mean, var = _reference(x, layer.params["gamma"], layer.params["beta"], grad,
                                                   layer.epsilon, **stats)
    got = layer.forward(x, training=training)
    got_dx = layer.backward(grad)
    assert got.dtype == got_dx.dtype == np.float32
    assert_allclose(got, out, rtol=1e-4, atol=1e-4)
    assert_allclose(got_dx, dx, rtol=1e-4, atol=1e-4)
    assert_allclose(layer.grads["gamma"], dgamma, rtol=1e-4, atol=1e-3)
    assert_allclose(layer.grads["beta"], dbeta, rtol=1e-4, atol=1e-3)
    if training:
        assert_allclose(layer.buffers["mean"], 0.8 * running["mean"] + 0.2 * mean, rtol=1e-5, atol=1e-5)
        assert_allclose(layer.buffers["var"], 0.8 * running["var"] + 0.2 * var, rtol=1e-5, atol=1e-5)
    else:
        assert_allclose(layer.buffers["mean"], running["mean"])


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_backward_with_the_relu_after_it_equals_the_relu_then_batchnorm(monkeypatch, name, training, threads):
    """``rectified``: the ReLU's mask applied inside BatchNorm's passes gives the numbers of the ReLU's own
    backward followed by BatchNorm's, bit for bit, on one thread and on two taking small blocks of rows."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_ELEMENTS", 64)
    shape, layout = SHAPES[name]
    rng = np.random.default_rng(1)
    layer, relu = BatchNorm(), ReLU()
    layer.build(shape[1:])
    relu.build(shape[1:])
    layer.params["gamma"][:] = rng.uniform(0.5, 2, shape[1])
    x = layout(rng.standard_normal(shape).astype(np.float32))
    grad = layout(rng.standard_normal(shape).astype(np.float32))
    with parallel.using(threads):
        out = relu.forward(layer.forward(x, training=training), training=True)
        centred = None if layer._centred is None else layer._centred.copy(order="K")   # backward scales it
        want = layer.backward(relu.backward(grad))
        want_grads = {k: v.copy() for k, v in layer.grads.items()}
        layer._x, layer._centred = layer._rows(x), centred
        got = layer.backward(grad, rectified=out)
    assert 0.2 < (out == 0).mean() < 0.8
    np.testing.assert_array_equal(got, want)
    for k, v in want_grads.items():
        np.testing.assert_array_equal(layer.grads[k], v, err_msg=k)


@pytest.mark.parametrize("mean", [0.0, 1e3, -3e4])
def test_the_variance_keeps_its_digits_beside_a_large_mean(mean):
    """The variance is the mean square of x - mean (``_centre_batch``). A faster-looking one-pass
    mean(x^2) - mean^2 loses it to a large mean in float32 (this test fails on it), as a channel of a few
    hundreds plus small wiggles would."""
    rng = np.random.default_rng(2)
    spread = np.array([1e-2, 1.0, 30.0], np.float32)
    x = _channels_last((mean + rng.standard_normal((16, 3, 8, 8)) * spread.reshape(1, 3, 1, 1)).astype(np.float32))
    layer = BatchNorm(momentum=0.0)
    layer.build(x.shape[1:])
    layer.forward(x, training=True)
    exact = x.astype(np.float64)
    assert_allclose(layer.buffers["var"], exact.var(axis=(0, 2, 3)), rtol=2e-3)
    assert (np.abs(layer.buffers["mean"] - exact.mean(axis=(0, 2, 3))) < 1e-6 * (abs(mean) + spread)).all()


def _peak_bytes(run):
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_training_step_allocates_two_batch_sized_arrays_forward_and_one_backward():
    """Forward keeps x - mean and returns its output; backward returns d/dx and needs no other temporary."""
    x = _channels_last(np.random.default_rng(0).standard_normal((32, 16, 16, 16)).astype(np.float32))
    layer = BatchNorm()
    layer.build(x.shape[1:])
    layer.forward(x, training=True)
    layer.backward(x)   # warm-up: the scratch of ones is made once
    forward = _peak_bytes(lambda: layer.forward(x, training=True))
    backward = _peak_bytes(lambda: layer.backward(x))
    assert forward < 2.2 * x.nbytes, f"forward peaked at {forward / x.nbytes:.1f} batches"
    assert backward < 1.2 * x.nbytes, f"backward peaked at {backward / x.nbytes:.1f} batches"
