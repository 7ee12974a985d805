"""Convolution arithmetic as pure functions: output sizes, padding, im2col, col2im.

Conv2D and both pooling layers call these; nothing else computes windows.

Inside, arrays are channels-last (N, H, W, C): a window then reads runs of C
contiguous floats, and the columns matrix comes out in the (kh, kw, C) order
a GEMM wants. Layers take and return logical NCHW arrays that are transposed
*views* of channels-last memory, so no layout copy happens between layers.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided


def output_size(n, k, stride, pad_total):
    return (n + pad_total - k) // stride + 1


def same_padding(n, k, stride):
    """Keras 'same': output ceil(n / stride), any odd extra row on the bottom/right."""
    total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw, kernel, stride):
    """Return ((top, bottom), (left, right)) for 'valid', 'same' or an int."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return tuple(same_padding(n, k, s) for n, k, s in zip(in_hw, kernel, stride))
    p = int(padding)
    return (p, p), (p, p)


def pad_nhwc(x, pads, value=0.0):
    (t, b), (l, r) = pads
    if not (t or b or l or r):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + t + b, w + l + r, c), value, dtype=x.dtype)
    out[:, t:t + h, l:l + w, :] = x
    return out


def windows(xp, kernel, stride, out_hw):
    """A read-only view (N, OH, OW, kh, kw, C) of the windows of padded NHWC ``xp``."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    (kh, kw), (st_h, st_w), (oh, ow) = kernel, stride, out_hw
    return as_strided(xp, shape=(n, oh, ow, kh, kw, c),
                      strides=(sn, sh * st_h, sw * st_w, sh, sw, sc), writeable=False)


def im2col(xp, kernel, stride, out_hw):
    """Columns (N*OH*OW, kh*kw*C), contiguous, ready for one GEMM."""
    n, _, _, c = xp.shape
    w = windows(xp, kernel, stride, out_hw)
    return w.reshape(n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c)


def col2im(dcols, padded_shape, kernel, stride, pads):
    """Sum window gradients (N, OH, OW, kh, kw, C) back onto the unpadded NHWC input.

    One strided add per kernel offset (kh*kw of them), never ``np.add.at``.
    Non-overlapping windows that tile the input exactly need no adds at all.
    """
    n, hp, wp, c = padded_shape
    _, oh, ow, kh, kw, _ = dcols.shape
    sh, sw = stride
    (t, b), (l, r) = pads
    if (sh, sw) == (kh, kw) and oh * kh == hp and ow * kw == wp:
        dxp = dcols.transpose(0, 1, 3, 2, 4, 5).reshape(n, hp, wp, c)
    else:
        dxp = np.zeros(padded_shape, dtype=dcols.dtype)
        for i in range(kh):
            for j in range(kw):
                dxp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += dcols[:, :, :, i, j, :]
    return dxp[:, t:hp - b, l:wp - r, :]


def to_nhwc(x):
    """The channels-last view of a logical NCHW array (free when memory is already NHWC)."""
    return x.transpose(0, 2, 3, 1)


def to_nchw(x):
    return x.transpose(0, 3, 1, 2)
