"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015).

im2col multiplies every output pixel by the nine taps of a kernel: 9 C
multiply-adds per pixel and filter. Winograd's transform computes a 2x2 output
tile from a 4x4 input tile in 16 products instead of 36, so the GEMMs shrink
2.25x; the transforms are small fixed matrices applied as GEMMs too:

    Y = A^T [(G w G^T) * (B^T d B)] A     (d: 4x4 input tile, w: 3x3 kernel, *: elementwise)

Each of the 16 tile positions is one (tiles x C) @ (C x F) GEMM. Both
gradients are exact by the same algebra: dx is the forward of the flipped
kernel over the zero-padded output gradient, and dw = G^T [sum over tiles of
(B^T d B) (A dY A^T)] G. The work runs a few images at a time so a chunk's
tiles stay in cache between the transform and the GEMMs (``conv_ops.batch_chunks``):
for vgg_mini's 32-channel layer at batch 128 that is 42 ms -> 23 ms forward.

Arrays are channels-last (N, H, W, C) as in ``conv_ops``; the input must be
padded to ``2 * tiles + 2`` rows and columns (``tiled_pads``).
"""
import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import conv_ops, parallel

_B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])
_TO_TILE = np.kron(_B_T, _B_T)       # (16, 16): the flattened 4x4 input tile d -> B^T d B
_FROM_TILE = np.kron(_A_T, _A_T)     # (4, 16): the 16 products -> the flattened 2x2 output tile
# How ``backward`` wants the output gradient padded, ((top, bottom), (left, right)): two zero rows and columns round
# it, so the input's gradient is a plain convolution of it, and one more at the bottom and right for an odd count
# of tiles.
GRAD_PADS = ((2, 3), (2, 3))


def applies(kernel, stride, in_channels, filters):
    """Whether a Conv2D is done this way: 3x3, stride 1, and enough channels on both sides that the
    16 GEMMs are worth more than their transforms (a single-channel first layer is not)."""
    return tuple(kernel) == (3, 3) and tuple(stride) == (1, 1) and min(in_channels, filters) >= 8


def tiles(out_hw):
    """2x2 output tiles per column and row: an odd size gets one tile that hangs over its edge."""
    return tuple((size + 1) // 2 for size in out_hw)


def tiled_pads(pads, out_hw):
    """``pads`` with one more row (column) at the bottom (right) where an odd output needs it."""
    (t, b), (left, r) = pads
    oh, ow = out_hw
    return (t, b + oh % 2), (left, r + ow % 2)


def kernel_tiles(w):
    """U = G w G^T of every (filter, channel) kernel, as (16, C, F): the right-hand sides of the GEMMs."""
    f, c = w.shape[:2]
    u = np.einsum("ai,fcij,bj->abcf", _G.astype(w.dtype), w, _G.astype(w.dtype), optimize=True)
    return np.ascontiguousarray(u.reshape(16, c, f))


def flipped(w):
    """The kernel that carries an output gradient back to the input: rotated 180 degrees, channels swapped."""
    return np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def _input_tiles(xp, th, tw):
    """B^T d B of every 4x4 input tile of ``xp`` (m, >= 2th+2, >= 2tw+2, C), as (16, m*th*tw, C)."""
    m, c = xp.shape[0], xp.shape[3]
    sn, sh, sw, sc = xp.strides
    windows = as_strided(xp, shape=(m, th, tw, 4, 4, c), strides=(sn, 2 * sh, 2 * sw, sh, sw, sc), writeable=False)
    d = np.empty((4, 4, m, th, tw, c), xp.dtype)
    np.copyto(d, windows.transpose(3, 4, 0, 1, 2, 5))
    return (_TO_TILE.astype(xp.dtype) @ d.reshape(16, -1)).reshape(16, m * th * tw, c)


def _output_tiles(g, th, tw):
    """A dY A^T of every 2x2 tile of the output gradient ``g`` (m, >= 2th, >= 2tw, F), as (16, m*th*tw, F)."""
    m, f = g.shape[0], g.shape[3]
    blocks = g[:, :2 * th, :2 * tw].reshape(m, th, 2, tw, 2, f).transpose(2, 4, 0, 1, 3, 5)
    dy = np.ascontiguousarray(blocks).reshape(4, -1)
    return (_FROM_TILE.T.astype(g.dtype) @ dy).reshape(16, m * th * tw, f)


def conv(xp, u, out_hw, out=None):
    """The 3x3 convolution (no bias) of padded ``xp`` (N, >= 2th+2, >= 2tw+2, C) with ``u`` = kernel_tiles(w).

    Returns (out, [((start, stop), input tiles) of each chunk]): ``out`` (N, OH, OW, F) is written in place
    when given; the tiles are what ``backward`` would transform ``xp`` into again, with the images they hold.
    """
    n, c = xp.shape[0], xp.shape[3]
    f = u.shape[2]
    (oh, ow), (th, tw) = out_hw, tiles(out_hw)
    out = np.empty((n, oh, ow, f), xp.dtype) if out is None else out
    chunks = _chunks(n, th, tw, c, f, xp.itemsize)
    tiles_of = parallel.run([functools.partial(_conv_chunk, xp[a:b], u, out[a:b]) for a, b in chunks])
    return out, list(zip(chunks, tiles_of))


def _chunks(n, th, tw, c, f, itemsize):
    """The batch's chunks for ``conv`` and ``backward``: each image's tiles of C and of F channels."""
    return conv_ops.batch_chunks(n, 16 * th * tw * (c + f) * itemsize)


def _conv_chunk(xp, u, out):
    """``conv`` of a few images, into their rows of ``out``; returns their input tiles."""
    m, oh, ow, f = out.shape
    th, tw = tiles((oh, ow))
    v = _input_tiles(xp, th, tw)
    products = np.matmul(v, u)
    y = (_FROM_TILE.astype(xp.dtype) @ products.reshape(16, -1)).reshape(2, 2, m, th, tw, f)
    out[:] = y.transpose(2, 3, 0, 4, 1, 5).reshape(m, 2 * th, 2 * tw, f)[:, :oh, :ow]
    return v


def backward(xp, gp, w, out_hw, in_window=None, kept=None):
    """Gradients of the 3x3 convolution of ``xp`` with ``w`` (F, C, 3, 3), given ``gp``.

    Args:
        xp: the padded input the forward saw (N, >= 2th+2, >= 2tw+2, C).
        gp: the output gradient with two zero rows and columns on every side and one more at the bottom
            and right (``GRAD_PADS``): (N, OH+5, OW+5, F).
        w: the kernel.
        out_hw: (OH, OW).
        in_window: (top, left, height, width) of the unpadded input inside ``xp``, to compute its gradient
            there alone (the padding's gradient is never needed); None for no input gradient.
        kept: what ``conv`` returned beside its output for ``xp`` (each chunk's images and input tiles), or
            None to transform ``xp`` again. Kept, they save a vgg_mini training step 4.5% at batch 64 and 8%
            at 128 (two threads); backward takes its chunks from them, so the tiles always fit their images.

    Returns:
        (dw of w's shape, dx of shape (N, height, width, C) or None).
    """
    n, c = xp.shape[0], xp.shape[3]
    f = w.shape[0]
    th, tw = tiles(out_hw)
    dx = u_back = None
    if in_window is not None:
        top, left, height, width = in_window
        dx = np.empty((n, height, width, c), xp.dtype)
        u_back = kernel_tiles(flipped(w))
    kept = kept or [(chunk, None) for chunk in _chunks(n, th, tw, c, f, xp.itemsize)]
    du = sum(parallel.run([functools.partial(_backward_chunk, xp[a:b], gp[a:b], (th, tw), u_back,
                                             None if dx is None else dx[a:b], in_window, v)
                           for (a, b), v in kept]))
    g = _G.astype(xp.dtype)
    dw = np.einsum("ai,abcf,bj->fcij", g, du.reshape(4, 4, c, f), g, optimize=True)
    return np.ascontiguousarray(dw), dx


def _backward_chunk(xp, gp, tiles_hw, u_back, dx, in_window, v):
    """A few images' share of ``backward``: their (16, C, F) sum of tile products, and their ``dx`` rows."""
    v = _input_tiles(xp, *tiles_hw) if v is None else v
    du = np.matmul(v.transpose(0, 2, 1), _output_tiles(gp[:, 2:, 2:], *tiles_hw))
    if dx is not None:   # the input's gradient: the flipped kernel's convolution of the padded gradient
        top, left, height, width = in_window
        conv(gp[:, top:, left:], u_back, (height, width), dx)
    return du

