"""A strided convolution's input gradient by phases (``conv_ops.input_grad_phases``) against the tap-by-tap way.

The finite-difference checks (``test_gradients.py``) prove a few layers; here
the two ways the layer has of making its input gradient must agree on every
kernel, stride, padding and size of a grid, and each must be chosen where it
makes fewer products.
"""
import itertools

import numpy as np
import pytest

from core import conv_ops, zoo
from core.layers.conv import Conv2D

GRID = list(itertools.product([1, 2, 3, (2, 3), (3, 2), 4, 5],    # kernel
                              [1, 2, 3, (2, 1), (1, 3)],          # stride
                              ["valid", "same", 1, 2],             # padding
                              [(5, 5), (7, 8), (9, 6)]))           # input height, width
PHASES = conv_ops.input_grad_phases


def _input_grads(kernel, stride, padding, hw, monkeypatch):
    """(by phases, by taps, whether phases were chosen) for one layer of the grid, or None where it cannot be
    built; float64, three images of two channels."""
    layer = Conv2D(3, kernel, stride=stride, padding=padding, seed=0)
    try:
        out = layer.build((2, *hw))
    except ValueError:   # a kernel larger than its padded input
        return None
    layer.params = {k: v.astype(np.float64) for k, v in layer.params.items()}
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((3, 2, *hw)), rng.standard_normal((3, *out))
    chosen = PHASES(hw, layer.kernel, layer.stride, layer.pads, out[1:]) is not None
    grads = []
    for phases in (PHASES, lambda *args: None):
        monkeypatch.setattr(conv_ops, "input_grad_phases", phases)
        layer.forward(x, training=True)
        grads.append(layer.backward(g))
    return grads[0], grads[1], chosen


def test_the_input_gradient_by_phases_equals_the_tap_by_tap_one(monkeypatch):
    chosen = 0
    for kernel, stride, padding, hw in GRID:
        grads = _input_grads(kernel, stride, padding, hw, monkeypatch)
        if grads is not None:
            by_phase, by_tap, used = grads
            np.testing.assert_allclose(by_phase, by_tap, rtol=0, atol=1e-12,
                                       err_msg=f"kernel {kernel}, stride {stride}, padding {padding}, input {hw}")
            chosen += used
    assert chosen >= 100, f"phases were chosen for only {chosen} layers of the grid"


def test_phases_are_chosen_where_the_taps_would_multiply_padding():
    """alexnet_mini's padded stride-2 layers take phases; LeNet-5's unpadded stride-1 one keeps the taps, where
    phases would multiply the output gradient's zero border instead (2.25x the products)."""
    def choices(name):
        model = zoo.build(name, seed=0)
        return [conv_ops.input_grad_phases(tuple(conv.input_shape[1:]), conv.kernel, conv.stride, conv.pads,
                                           tuple(conv.output_shape[1:])) is not None
                for conv in model.layers if isinstance(conv, Conv2D) and conv.input_shape[0] > 1]
    assert choices("alexnet_mini") == [True, True]
    assert choices("lenet5") == [False]


@pytest.mark.parametrize("n, pad, k, s, n_out, expected", [
    # 7 inputs, padding 1, kernel 3, stride 2: even padded positions 2, 4, 6 meet offsets 2 and 0 of outputs
    # t - 1 and t; odd ones 1, 3, 5, 7 meet offset 1 of output t: every product lands inside the input
    (7, 1, 3, 2, 4, [conv_ops.AxisPhase(1, 3, (2, 0), 0, 0, 0), conv_ops.AxisPhase(0, 4, (1,), 0, 0, 0)]),
    # kernel 2, stride 3: padded positions 2, 5 (residue 2) meet no offset
    (7, 1, 2, 3, 3, [conv_ops.AxisPhase(2, 2, (0,), 1, 0, 0), conv_ops.AxisPhase(0, 3, (1,), 0, 0, 0),
                     conv_ops.AxisPhase(1, 2, (), 1, 0, 0)]),
    # unpadded: position 0 meets offset 2 of output -1 and position 6 offset 0 of output 3, both off the
    # gradient's edges: a zero row before it and one after
    (7, 0, 3, 2, 3, [conv_ops.AxisPhase(0, 4, (2, 0), 0, 1, 1), conv_ops.AxisPhase(1, 3, (1,), 0, 0, 0)]),
])
def test_axis_phases(n, pad, k, s, n_out, expected):
    assert conv_ops._axis_phases(n, pad, k, s, n_out) == expected
    assert conv_ops._axis_phases(n, pad, k, s, n_out) == expected


def test_a_stride_of_a_billion_has_a_phase_an_input():
    """A model file may ask for a stride of a billion: only the residues the inputs have are looked at (a loop
    over every residue never ends; the fuzz test's mutants found it while phases were chosen at build)."""
    phases = conv_ops._axis_phases(28, 1, 3, 10 ** 9, 1)
    assert [p.start for p in phases] == list(range(28)) and all(p.count == 1 for p in phases)
    assert [p.taps for p in phases if p.taps] == [(1,), (2,)]   # inputs 0 and 1, at padded positions 1 and 2
