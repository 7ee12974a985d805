"""Buffers reused from batch to batch (``core.scratch``): reuse must never change a number.

A padded input and im2col's columns are kept by their layer; the next batch,
of any size, writes into them. Each check runs batches of changing sizes and
dtypes through one layer and compares every result with a fresh layer's.
"""
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import conv_ops
from core.layers import AvgPool2D, Conv2D, MaxPool2D
from core.scratch import Scratch

LAYERS = {   # (the layer, its input channels)
    "conv same": (lambda: Conv2D(4, 3, padding="same", seed=0), 2),
    "conv padded strided": (lambda: Conv2D(3, 3, stride=2, padding=1, seed=0), 2),
    "conv valid": (lambda: Conv2D(2, 5, seed=0), 2),
    "conv one channel": (lambda: Conv2D(3, 3, padding=1, seed=0), 1),
    "conv one channel, channels last": (lambda: Conv2D(9, 3, stride=2, seed=0), 1),
    "conv winograd": (lambda: Conv2D(8, 3, padding="same", seed=0), 8),
    "maxpool padded": (lambda: MaxPool2D(3, stride=2, padding=1), 2),
    "avgpool padded": (lambda: AvgPool2D(2, stride=1, padding=1), 2),
}


def _run(layer, x, grad_seed):
    out = layer.forward(x, training=True)
    grad = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(x.dtype)
    return out.copy(), layer.backward(grad).copy(), {k: g.copy() for k, g in layer.grads.items()}


@pytest.mark.parametrize("make, channels", LAYERS.values(), ids=LAYERS.keys())
def test_batches_of_changing_size_and_dtype_match_a_fresh_layer(make, channels):
    rng = np.random.default_rng(1)
    reused = make()
    reused.build((channels, 9, 7))
    for step, (n, dtype) in enumerate([(6, np.float32), (2, np.float32), (6, np.float32), (3, np.float64),
                                       (7, np.float32)]):
        # negative inputs: a -inf or zero border that leaked into the interior would win or shift a window
        x = (rng.standard_normal((n, channels, 9, 7)) - 3).astype(dtype)
        fresh = make()
        fresh.build((channels, 9, 7))
        if reused.params:
            fresh.set_weights(reused.get_weights())
        out, dx, grads = _run(reused, x, step)
        out_f, dx_f, grads_f = _run(fresh, x, step)
        assert out.dtype == dtype
        assert_array_equal(out, out_f, err_msg=f"batch {step} ({n}, {dtype.__name__}): forward")
        assert_array_equal(dx, dx_f, err_msg=f"batch {step}: input gradient")
        for k in grads_f:
            assert_array_equal(grads[k], grads_f[k], err_msg=f"batch {step}: gradient of {k}")


def test_a_conv_layer_writes_each_batch_into_the_same_columns_and_padded_input():
    layer = Conv2D(4, 3, padding="same", seed=0)
    layer.build((2, 8, 8))
    x = np.random.default_rng(0).random((5, 2, 8, 8), dtype=np.float32)
    layer.forward(x, training=True)
    first_cols = layer._cols
    layer.forward(x[:3], training=True)           # a smaller last batch fits in the first one's buffers
    assert np.shares_memory(layer._cols, first_cols), "the columns were allocated afresh"
    assert len(layer._cols) == 3 * 8 * 8


@pytest.mark.parametrize("make, channels", [v for k, v in LAYERS.items() if k.startswith("conv")],
                         ids=[k for k in LAYERS if k.startswith("conv")])
def test_inference_forwards_between_training_steps_change_no_number(make, channels):
    """An inference forward writes a chunk at a time into arrays of its own and keeps no columns: the training
    steps around it, and a backward straight after it (a saliency map's), match a fresh layer's."""
    rng = np.random.default_rng(2)
    reused, fresh = make(), make()
    for layer in (reused, fresh):
        layer.build((channels, 9, 7))
    for step, n in enumerate([6, 3, 7]):
        x = (rng.standard_normal((n, channels, 9, 7)) - 3).astype(np.float32)
        fresh.set_weights(reused.get_weights())
        predicted = reused.forward(x[:n - 1]).copy()
        assert_array_equal(predicted, fresh.forward(x[:n - 1], training=True), err_msg=f"batch {step}: inference")
        out, dx, grads = _run(reused, x, step)
        reused.forward(x[1:])   # inference between a training forward and its backward's reuse of nothing
        out_f, dx_f, grads_f = _run(fresh, x, step)
        assert_array_equal(out, out_f, err_msg=f"batch {step}: forward")
        assert_array_equal(dx, dx_f, err_msg=f"batch {step}: input gradient")
        grad = np.random.default_rng(step).standard_normal(out.shape).astype(np.float32)
        reused.forward(x)
        after_inference = reused.backward(grad)
        assert_array_equal(after_inference, dx_f, err_msg=f"batch {step}: backward after an inference forward")
        for k in grads_f:
            assert_array_equal(grads[k], grads_f[k], err_msg=f"batch {step}: gradient of {k}")
            assert_array_equal(reused.grads[k], grads_f[k], err_msg=f"batch {step}: {k} after inference")


@pytest.mark.parametrize("padding", ["valid", 1], ids=["by columns", "by regions"])
def test_an_inference_forward_keeps_a_chunk_of_columns_not_a_batch(padding):
    """Reused chunk by chunk, a prediction's columns stay in the core's cache: none the size of the batch's,
    whether made whole or by regions (alexnet_mini's second layer, ``core.conv_regions``)."""
    layer = Conv2D(64, 3, stride=2, padding=padding, seed=0)
    layer.build((32, 13, 13))
    x = np.random.default_rng(0).random((128, 32, 13, 13), dtype=np.float32)
    batch_cols = 128 * layer.output_shape[1] * layer.output_shape[2] * 3 * 3 * 32
    layer.forward(x)
    assert layer._cols is None
    sizes = [a.size for arrays in layer.scratch._by_thread.values() for a in arrays.values()]
    assert sizes and max(sizes) < batch_cols / 3, sizes
    layer.forward(x, training=True)
    assert layer._cols.size == batch_cols   # training keeps them for dW


def test_an_inference_forward_ending_on_one_thread_leaves_another_s_in_inference():
    """``predict`` runs pieces of a batch through the same layer on two threads at once: one piece's forward
    ending must not turn the other's, still running, into a training forward keeping a batch of columns."""
    layer = Conv2D(64, 3, stride=2, padding=1, seed=0)
    layer.build((32, 13, 13))
    x = np.random.default_rng(0).random((128, 32, 13, 13), dtype=np.float32)
    batch_cols = 128 * layer.output_shape[1] * layer.output_shape[2] * 3 * 3 * 32
    entered, other_done, outputs = threading.Event(), threading.Event(), {}
    make_output = layer.linear_forward

    def linear_forward(x, then=None):   # the piece's thread goes on once the caller's forward has ended
        if threading.current_thread() is piece:
            entered.set()
            other_done.wait(10)
        return make_output(x, then)

    layer.linear_forward = linear_forward
    piece = threading.Thread(target=lambda: outputs.setdefault("waiting", layer.forward(x).copy()))
    piece.start()
    entered.wait(10)
    outputs["other"] = layer.forward(x).copy()
    other_done.set()
    piece.join()
    assert_array_equal(outputs["waiting"], outputs["other"])
    assert layer._cols is None
    sizes = [a.size for arrays in layer.scratch._by_thread.values() for a in arrays.values()]
    assert max(sizes) < batch_cols / 3, sizes


@pytest.mark.parametrize("filters", [20, 5], ids=["channels last", "channel by channel"])
def test_a_single_channel_inference_forward_keeps_a_chunk_of_columns_not_a_batch(filters):
    """LeNet-5's and cnn_small's first layers: a row a kernel offset plus one of ones, a chunk at a time in
    inference, the batch's in training (for dW and the bias's gradient); a backward after an inference
    forward makes them again."""
    layer = Conv2D(filters, 5, seed=0)
    layer.build((1, 28, 28))
    x = np.random.default_rng(0).random((128, 1, 28, 28), dtype=np.float32)
    batch_cols = 26 * 128 * 24 * 24
    predicted = layer.forward(x).copy()
    assert layer._cols is None
    sizes = [a.size for arrays in layer.scratch._by_thread.values() for a in arrays.values()]
    assert sizes and max(sizes) < batch_cols / 3, sizes
    grad = np.random.default_rng(1).standard_normal(predicted.shape).astype(np.float32)
    layer.backward(grad)
    after_inference = {k: g.copy() for k, g in layer.grads.items()}
    assert_array_equal(layer.forward(x, training=True), predicted)
    assert layer._cols.shape == (26, 128 * 24 * 24)   # training keeps them
    layer.backward(grad)
    for k, g in layer.grads.items():
        assert_array_equal(after_inference[k], g, err_msg=k)


def test_scratch_grows_for_a_larger_batch_and_refills_a_new_array():
    scratch = Scratch()
    small = scratch.get("padded", (2, 3), np.float32, fill=-1.0)
    small[:] = 5
    big = scratch.get("padded", (4, 3), np.float32, fill=-1.0)
    assert not np.shares_memory(small, big)
    assert_array_equal(big, -1.0)
    again = scratch.get("padded", (1, 3), np.float32, fill=-1.0)
    assert np.shares_memory(again, big) and again.shape == (1, 3)
    assert scratch.get("padded", (1, 3), np.float64).dtype == np.float64


def test_column_sums_equal_numpy_sums_for_changing_row_counts_and_dtypes():
    """The bias and BatchNorm gradients' sums: the kept vector of ones shrinks and grows with the batch."""
    scratch, rng = Scratch(), np.random.default_rng(0)
    for rows, dtype in [(5000, np.float32), (7, np.float32), (86528, np.float32), (300, np.float64)]:
        a = rng.standard_normal((rows, 5)).astype(dtype) + 2
        got = scratch.column_sums(a)
        assert got.dtype == dtype and got.shape == (5,)
        exact = a.astype(np.float64).sum(axis=0)
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(got, exact, rtol=tol)


def test_fit_evaluate_and_predict_leave_no_batch_sized_buffers_on_the_model():
    from core import zoo
    model = zoo.build("vgg_mini", seed=0)
    model.compile("sgd", "crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 1, 28, 28), dtype=np.float32), np.arange(8) % 10
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    model.train_on_batch(x, y)   # a user's own loop keeps them from batch to batch
    assert all(len(layer.scratch) for layer in convs)
    for call in (lambda: model.fit(x, y, batch_size=4), lambda: model.evaluate(x, y), lambda: model.predict(x)):
        call()
        assert [layer.name for layer in model.layers if len(layer.scratch)] == []


@pytest.mark.parametrize("kernel, stride, shape", [((3, 3), (1, 1), (2, 6, 6, 4)), ((2, 3), (2, 1), (3, 7, 12, 2))],
                         ids=["3x3", "strided"])
def test_im2col_matches_the_windows_of_the_input(kernel, stride, shape):
    """The columns hold each window's pixels in (i, j, c) order, whether written into scratch or not."""
    xp = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1
    expected = np.stack([xp[:, y * sh:y * sh + kh, x * sw:x * sw + kw, :].reshape(shape[0], -1)
                         for y in range(oh) for x in range(ow)], axis=1).reshape(-1, kh * kw * shape[3])
    assert_array_equal(conv_ops.im2col(xp, kernel, stride, (oh, ow)), expected)
    assert_array_equal(conv_ops.im2col(xp, kernel, stride, (oh, ow), np.empty_like(expected)), expected)


def test_each_thread_has_its_own_arrays_and_clear_lets_go_of_all():
    """Pieces of an inference batch run through one layer on several threads at once (Sequential._side_by_side):
    each must write into arrays of its own."""
    scratch, got, together = Scratch(), {}, threading.Barrier(2)

    def take(name):
        got[name] = scratch.get("cols", (4, 3), np.float32)
        if name != "main":
            together.wait()   # both alive at once, as numpynet's threads are
    threads = [threading.Thread(target=take, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    take("main")
    assert not np.shares_memory(got["a"], got["b"]) and not np.shares_memory(got["a"], got["main"])
    assert len(scratch) == 3
    scratch.clear()
    assert len(scratch) == 0
    assert not np.shares_memory(scratch.get("cols", (4, 3), np.float32), got["main"])
