"""A grid of convolutions (kernels, strides, paddings, input sizes) on which two ways a Conv2D has of computing
the same thing must agree: the input gradient by phases or tap by tap, the inference output by regions or
by padded columns."""
import itertools

import numpy as np

from core import zoo
from core.layers import Conv2D

KERNELS = [1, 2, 3, (2, 3), (3, 2), 4, 5]
STRIDES = [1, 2, 3, (2, 1), (1, 3)]
SIZES = [(5, 5), (7, 8), (9, 6)]   # input height, width


def assert_both_ways_agree(paddings, both_ways, least, way):
    """For every layer of the grid with ``paddings``, ``both_ways(kernel, stride, padding, hw)`` gives
    (one way's result, the other's, whether the layer took ``way``), or None where the layer cannot be built:
    the two must agree to 1e-12 in float64, and at least ``least`` layers must have taken ``way``."""
    taken = 0
    for kernel, stride, padding, hw in itertools.product(KERNELS, STRIDES, paddings, SIZES):
        results = both_ways(kernel, stride, padding, hw)
        if results is not None:
            one, other, used = results
            np.testing.assert_allclose(one, other, rtol=0, atol=1e-12,
                                       err_msg=f"kernel {kernel}, stride {stride}, padding {padding}, input {hw}")
            taken += used
    assert taken >= least, f"{way} for only {taken} layers of the grid"


def taken_in(preset, choose):
    """For each convolution of zoo ``preset`` with more than one input channel, whether ``choose(in_hw,
    kernel, stride, pads, out_hw)`` (``conv_ops.input_grad_phases``, ``conv_regions.edge_regions``) takes it."""
    return [choose(tuple(conv.input_shape[1:]), conv.kernel, conv.stride, conv.pads,
                   tuple(conv.output_shape[1:])) is not None
            for conv in zoo.build(preset, seed=0).layers if isinstance(conv, Conv2D) and conv.input_shape[0] > 1]
