"""A strided convolution's input gradient by phases (``conv_ops.input_grad_phases``) against the tap-by-tap way.

The finite-difference checks (``test_gradients.py``) prove a few layers; here
the two ways the layer has of making its input gradient must agree on every
kernel, stride, padding and size of a grid, and each must be chosen where it
makes fewer products.
"""
import functools

import numpy as np
import pytest
from conv_grid import assert_both_ways_agree, taken_in

from core import conv_ops
from core.layers.conv import Conv2D

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
    assert_both_ways_agree(["valid", "same", 1, 2], functools.partial(_input_grads, monkeypatch=monkeypatch), 100,
                           "phases were chosen")


def test_phases_are_chosen_where_the_taps_would_multiply_padding():
    """alexnet_mini's padded stride-2 layers take phases; LeNet-5's unpadded stride-1 one keeps the taps, where
    phases would multiply the output gradient's zero border instead (2.25x the products)."""
    assert taken_in("alexnet_mini", PHASES) == [True, True]
    assert taken_in("lenet5", PHASES) == [False]


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
