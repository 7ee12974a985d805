"""Winograd convolution, F(2x2, 3x3) and F(4x4, 3x3) (core/winograd.py), against the im2col path it replaces for
3x3 stride-1 layers.

The finite-difference checks of test_gradients.py prove its gradients in float64;
these show it computes what im2col computes, in float32, on the shapes where
tiles hang over an odd edge, padding exceeds the kernel, or a batch is cut into chunks.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import conv_ops, parallel, winograd, zoo
from core.layers import Conv2D


def _pass(layer, x, grad):
    out = layer.forward(x, training=True)
    return out.copy(), layer.backward(grad), dict(layer.grads)


CASES = {"same, odd size": (dict(padding="same"), (16, 7, 7)), "valid, even": (dict(), (8, 10, 6)),
         "padding 3": (dict(padding=3), (8, 2, 3)), "one pixel": (dict(padding=1), (12, 1, 1)),
         "relu, wide": (dict(padding="same", activation="relu"), (8, 4, 15))}


@pytest.mark.parametrize("kwargs, shape", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("chunk_bytes", [conv_ops.CHUNK_BYTES, 1], ids=["default chunks", "one image a chunk"])
@pytest.mark.parametrize("tiling", winograd.TILINGS, ids=lambda t: f"F{t.m}")
def test_winograd_matches_im2col_in_float32(kwargs, shape, chunk_bytes, tiling, monkeypatch):
    """F4's tiles hang up to three rows and columns over an edge, F2's one; both give im2col's numbers to 1e-5
    of their largest (F4's float32 error is about 6e-6 of it on vgg_mini's layers, F2's and im2col's 1e-6)."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(0)
    fast, plain = Conv2D(10, 3, seed=0, **kwargs), Conv2D(10, 3, seed=0, **kwargs)
    for layer in (fast, plain):
        layer.build(shape)
        layer.need_input_grad = True
    assert fast.winograd
    plain.winograd, fast.winograd = None, tiling
    x = rng.standard_normal((5, *shape)).astype(np.float32)
    grad = rng.standard_normal((5, *fast.output_shape)).astype(np.float32)
    (out, dx, grads), (out_ref, dx_ref, grads_ref) = _pass(fast, x, grad), _pass(plain, x, grad)
    assert out.dtype == dx.dtype == grads["W"].dtype == np.float32
    scale = lambda a: np.abs(a).max()   # noqa: E731
    assert_allclose(out, out_ref, atol=1e-5 * scale(out_ref))
    assert_allclose(dx, dx_ref, atol=1e-5 * scale(dx_ref))
    for name in ("W", "b"):
        assert_allclose(grads[name], grads_ref[name], atol=1e-5 * scale(grads_ref[name]))


def test_a_first_layer_without_input_gradient_still_gets_its_weight_gradient():
    layer = Conv2D(8, 3, padding="same", seed=0)
    layer.build((8, 6, 6))
    layer.need_input_grad = False   # as Sequential sets it for a model's first layer
    assert layer.winograd
    x = np.random.default_rng(1).standard_normal((2, 8, 6, 6)).astype(np.float32)
    layer.forward(x, training=True)
    assert layer.backward(np.ones((2, 8, 6, 6), np.float32)) is None
    assert layer.grads["W"].shape == (8, 8, 3, 3) and np.abs(layer.grads["W"]).sum() > 0


def test_the_tiling_with_the_fewest_products_for_its_output():
    """F4 where its 6x6 tiles need fewer products than F2's 4x4 ones over the output they cover, edges included:
    vgg_mini's 28x28 and 14x14 maps (1,764 against 3,136; 576 against 784); F2 for a map of one or two pixels."""
    assert winograd.choose((3, 3), (1, 1), 32, 32, (28, 28)) is winograd.F4
    assert winograd.choose((3, 3), (1, 1), 64, 64, (14, 14)) is winograd.F4
    assert winograd.choose((3, 3), (1, 1), 8, 8, (2, 2)) is winograd.F2
    assert winograd.choose((3, 3), (1, 1), 8, 8, (1, 9)) is winograd.F2
    assert winograd.choose((3, 3), (1, 1), 8, 8, (6, 6)) is winograd.F2   # 144 products either way: F2 rounds less


def test_the_layers_that_take_the_winograd_path():
    """vgg_mini's three wide 3x3 convolutions; not its single-channel first one, nor strided, 5x5 or narrow ones."""
    vgg = zoo.build("vgg_mini", seed=0)
    assert [layer.winograd for layer in vgg.layers if isinstance(layer, Conv2D)] == [None, *[winograd.F4] * 3]
    assert not any(layer.winograd for name in ("lenet5", "alexnet_mini", "cnn_small")
                   for layer in zoo.build(name, seed=0).layers if isinstance(layer, Conv2D))
    assert winograd.choose((3, 3), (1, 1), 4, 32, (8, 8)) is None
    assert winograd.choose((3, 3), (2, 2), 32, 32, (8, 8)) is None


def _layer_and_batch(tiling, seed):
    """A Winograd layer on ``tiling`` with input gradients, three random 8x6x6 images and an output gradient."""
    layer = Conv2D(8, 3, padding="same", seed=0)
    layer.build((8, 6, 6))
    layer.need_input_grad, layer.winograd = True, tiling
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 8, 6, 6)).astype(np.float32)
    return layer, x, rng.standard_normal((3, 8, 6, 6)).astype(np.float32)


@pytest.mark.parametrize("tiling", winograd.TILINGS, ids=lambda t: f"F{t.m}")
def test_training_keeps_the_input_tiles_for_backward_and_inference_keeps_none(monkeypatch, tiling):
    """Backward from the tiles forward kept gives the bits of backward transforming the input again, with one
    transform fewer a chunk; a forward outside training keeps none, and backward lets them go."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)   # one image a chunk: three chunks
    layer, x, grad = _layer_and_batch(tiling, seed=2)
    transforms = []
    input_tiles = winograd._input_tiles
    monkeypatch.setattr(winograd, "_input_tiles", lambda *a: transforms.append(1) or input_tiles(*a))

    layer.forward(x, training=False)
    assert layer._tiles is None
    results = []
    for keep in (True, False):
        layer.forward(x, training=True)
        assert len(layer._tiles) == 3
        if not keep:
            layer._tiles = None
        transforms.clear()
        dx = layer.backward(grad)
        results.append((dx, dict(layer.grads), len(transforms)))
        assert layer._tiles is None
    (dx, grads, kept_transforms), (dx_again, grads_again, transforms_again) = results
    np.testing.assert_array_equal(dx, dx_again)
    for name in grads:
        np.testing.assert_array_equal(grads[name], grads_again[name])
    assert (kept_transforms, transforms_again) == (3, 6)   # the gradient's tiles only, against both


@pytest.mark.parametrize("tiling", winograd.TILINGS, ids=lambda t: f"F{t.m}")
def test_backward_takes_its_chunks_from_the_kept_tiles(monkeypatch, tiling):
    """Tiles kept for chunks of one image still fit when backward would cut the batch otherwise."""
    layer, x, grad = _layer_and_batch(tiling, seed=3)
    layer.forward(x, training=True)
    layer._tiles = None
    expected = layer.backward(grad), dict(layer.grads)
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)   # forward in three chunks...
    layer.forward(x, training=True)
    monkeypatch.undo()                                  # ...backward would take one
    dx, grads = layer.backward(grad), layer.grads
    for got, want in [(dx, expected[0]), *((grads[name], expected[1][name]) for name in grads)]:
        # chunks sum in another order: float32 round-off of the array's scale (F4's transforms reach 1e-5 of it)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("tiling", winograd.TILINGS, ids=lambda t: f"F{t.m}")
def test_each_chunk_copies_its_own_images_into_the_kept_padded_arrays(monkeypatch, tiling):
    """The padded input and gradient are kept from batch to batch, and each chunk writes its own images into
    them on its thread: two batches on two threads, the second smaller, give im2col's numbers; a chunk that
    left its images out would read the first batch's (or uninitialised memory)."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)   # one image a chunk
    rng = np.random.default_rng(4)
    fast, plain = Conv2D(8, 3, padding="same", seed=0), Conv2D(8, 3, padding="same", seed=0)
    for layer in (fast, plain):
        layer.build((8, 7, 5))
        layer.need_input_grad = True
    fast.winograd, plain.winograd = tiling, None
    with parallel.using(2):
        for n in (6, 3):
            x = rng.standard_normal((n, 8, 7, 5)).astype(np.float32)
            grad = rng.standard_normal((n, 8, 7, 5)).astype(np.float32)
            (out, dx, grads), (out_ref, dx_ref, grads_ref) = _pass(fast, x, grad), _pass(plain, x, grad)
            assert_allclose(out, out_ref, atol=1e-5 * np.abs(out_ref).max())
            assert_allclose(dx, dx_ref, atol=1e-5 * np.abs(dx_ref).max())
            assert_allclose(grads["W"], grads_ref["W"], atol=1e-5 * np.abs(grads_ref["W"]).max())


def test_the_kernel_tiles_are_g_w_g_transposed():
    """``kernel_tiles`` (one product with kron(G, G)) against G w G^T kernel by kernel, in float64."""
    w = np.random.default_rng(5).standard_normal((3, 2, 3, 3))
    for tiling in winograd.TILINGS:
        u = winograd.kernel_tiles(w, tiling).reshape(tiling.alpha, tiling.alpha, 2, 3)
        for f in range(3):
            for c in range(2):
                assert_allclose(u[:, :, c, f], tiling.g @ w[f, c] @ tiling.g.T, rtol=1e-12, atol=1e-12)

