"""benchmarks/profile_layers.py --products times the products a layer runs: the shapes it names must be
those products, or the table compares BLAS on work no layer does."""
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from core import conv_ops, zoo
from core.layers import Conv2D, Dense

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))   # where the script finds ``machine``, run as a script
_spec = importlib.util.spec_from_file_location("profile_layers", ROOT / "benchmarks" / "profile_layers.py")
profile_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(profile_layers)

BATCH = 3


def _layer_inputs(model, x):
    """Each layer's input for a forward of ``x``."""
    inputs = []
    for layer in model.layers:
        inputs.append(x)
        x = layer.forward(x)
    return inputs


@pytest.mark.parametrize("name", ["mlp", "lenet5", "alexnet_mini"])
def test_the_forward_product_named_is_the_one_that_gives_the_layers_output(name):
    """Columns (m, k) times W as (k, n), plus the bias, equal the layer's own output before its activation."""
    model = zoo.build(name, seed=0)
    x = np.random.default_rng(0).random((BATCH, *model.input_shape), dtype=np.float32)
    checked = 0
    for layer, x_in in zip(model.layers, _layer_inputs(model, x)):
        shapes = dict(profile_layers.products(layer, BATCH))
        if not isinstance(layer, (Conv2D, Dense)):
            assert shapes == {}
            continue
        m, k, n = shapes["forward"]
        if isinstance(layer, Dense):
            a, w = x_in.reshape(BATCH, -1), layer.params["W"]
        else:
            xp = conv_ops.pad_nhwc(conv_ops.to_nhwc(x_in), layer.pads)
            a = conv_ops.im2col(xp, layer.kernel, layer.stride, layer.output_shape[1:])
            w = layer._w_matrix()
        assert a.shape == (m, k) and w.shape == (k, n)
        expected = layer.linear_forward(x_in)
        got = a @ w + layer.params["b"]
        if isinstance(layer, Conv2D):
            got = conv_ops.to_nchw(got.reshape(BATCH, *layer.output_shape[1:], n))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        assert shapes["dW"] == (k, m, n) and math.prod(layer.params["W"].shape) == k * n
        assert ("dx" in shapes) == layer.need_input_grad
        checked += 1
    assert checked >= 2


def test_a_winograd_convolution_names_no_im2col_products():
    model = zoo.build("vgg_mini", seed=0)
    winograd = [layer for layer in model.layers if isinstance(layer, Conv2D) and layer.winograd]
    assert winograd and all(profile_layers.products(layer, BATCH) == [] for layer in winograd)
