"""A padded convolution's output cut into regions whose windows lie wholly inside the input.

The columns of a padded layer (``conv_ops.im2col``) hold every kernel
offset of every window, the padding's zeros too, and its product multiplies
them all. At stride 2 and padding 1, alexnet_mini's second and third layers
spend 18% and 31% of their products on the padding. A window at the top
edge takes only the kernel's lower rows, one at the left edge only its right
columns, and so on: the output falls into a few regions (the edges, the
corners, the middle) whose windows all take the same offsets. Each region
is one product of its own narrower columns with those offsets' weights,
read straight from the unpadded input: no padded copy, no product with a
zero. PyTorch's oneDNN skips the padding the same way.
"""
import functools
import math
from typing import NamedTuple

import numpy as np

from . import conv_ops

MIN_SAVING = 0.15   # the share of products regions must save: alexnet_mini's layers save 18% and 31%
MAX_EDGE_RUNS = 3   # on each side of an axis: more runs of windows in the padding than this, no regions
MIN_FLOPS = 60e6    # the padded product's work, below which its regions' small products and copies cost more:
                    # alexnet_mini's layers broke even at 32 images (58 and 75 MFLOP), one image took 1.5-2x


class Region(NamedTuple):
    """Output rows ``rows`` by columns ``cols`` (each (start, stop)), whose windows all take kernel rows
    ``taps_y`` by columns ``taps_x`` (each (start, stop)) inside the input, and no other offset."""
    rows: tuple
    cols: tuple
    taps_y: tuple
    taps_x: tuple

    def size(self):
        """How many output positions the region holds."""
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    def taps(self):
        """How many kernel offsets each of its windows takes."""
        return (self.taps_y[1] - self.taps_y[0]) * (self.taps_x[1] - self.taps_x[0])


def _axis_runs(n, pad, k, s, n_out):
    """An axis's runs of output positions whose windows take the same kernel offsets inside its ``n`` inputs:
    ((first, stop), (lowest offset, highest + 1)) each; None for more than ``MAX_EDGE_RUNS`` on a side.

    Only the positions at the edges are looked at one by one: those from ``head`` to ``tail`` take every
    offset, and a model file may ask for an output a billion wide.
    """
    head = min(n_out, -(-pad // s))                              # windows that start in the padding
    tail = max(head, min(n_out, (n + pad - k) // s + 1))         # from here on they end in it
    if head > MAX_EDGE_RUNS or n_out - tail > MAX_EDGE_RUNS:
        return None
    spans = [(t, t + 1) for t in range(head)] + [(head, tail)] * (tail > head) + \
        [(t, t + 1) for t in range(tail, n_out)]   # an edge window's neighbour reaches one stride further or less
    runs = [(span, (max(0, pad - s * span[0]), min(k, n + pad - s * span[0]))) for span in spans]
    if any(lo >= hi for _, (lo, hi) in runs):   # a window wholly in the padding
        return None
    return runs


@functools.cache
def edge_regions(in_hw, kernel, stride, pads, out_hw):
    """A padded layer's ``Region``s, or None where they would save under ``MIN_SAVING`` of its products.

    Args:
        in_hw: the input's (height, width), unpadded.
        kernel, stride, out_hw: the layer's.
        pads: ((top, bottom), (left, right)), as ``conv_ops.resolve_padding`` gives them.
    """
    runs = [_axis_runs(n, p[0], k, s, o) for n, p, k, s, o in zip(in_hw, pads, kernel, stride, out_hw)]
    if None in runs:
        return None
    regions = tuple(Region(rows, cols, taps_y, taps_x) for rows, taps_y in runs[0] for cols, taps_x in runs[1])
    products = sum(r.size() * r.taps() for r in regions)
    return regions if products <= (1 - MIN_SAVING) * math.prod(out_hw) * math.prod(kernel) else None


def windows(x, region, stride, pads):
    """The read-only view (N, rows, columns, taps_y, taps_x, C) of the windows of ``region`` in the unpadded
    channels-last ``x``: the columns of its product are this view's copy."""
    (t0, t1), (u0, u1), (i0, i1), (j0, j1) = region
    y0, x0 = stride[0] * t0 + i0 - pads[0][0], stride[1] * u0 + j0 - pads[1][0]
    return conv_ops.windows(x[:, y0:, x0:], (i1 - i0, j1 - j0), stride, (t1 - t0, u1 - u0))


@functools.cache
def order(regions, images, out_hw):
    """For each output row of ``images`` images in channels-last order, its row in the regions' products
    laid one after another (each region's rows image by image): ``np.take``'s indices from one to the other."""
    positions = np.arange(images * math.prod(out_hw)).reshape(images, *out_hw)
    by_region = np.concatenate([positions[:, slice(*r.rows), slice(*r.cols)].ravel() for r in regions])
    inverse = np.empty_like(by_region)
    inverse[by_region] = np.arange(len(by_region))
    inverse.flags.writeable = False
    return inverse
