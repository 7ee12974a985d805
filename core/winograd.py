"""3x3 stride-1 convolution by Winograd's minimal filtering F(m x m, 3x3) (Lavin and Gray, 2015).

im2col multiplies every output pixel by the nine taps of a kernel: 9 C
multiply-adds per pixel and filter. Winograd's transform computes an m x m
output tile from an (m+2) x (m+2) input tile d in (m+2)^2 products:

    Y = A^T [(G w G^T) * (B^T d B)] A     (w: 3x3 kernel, *: elementwise)

F2 (2x2 tiles from 4x4) needs 4 products an output pixel instead of 9, F4
(4x4 from 6x6) 2.25. Each of the (m+2)^2 tile positions is one
(tiles x C) @ (C x F) GEMM; the transforms are small fixed matrices applied
along each axis of a tile. Both gradients follow from the same algebra: dx is
the forward of the flipped kernel over the zero-padded output gradient, and
dw = G^T [sum over tiles of (B^T d B) (A dY A^T)] G. The work runs a few
images at a time so a chunk's tiles stay in cache between the transform and
the GEMMs (``conv_ops.batch_chunks``): for vgg_mini's 32-channel layer at
batch 128 that was 42 ms -> 23 ms forward with F2.

A layer takes the tiling with the fewer products over the output its tiles
cover (``choose``): F4 on vgg_mini's 28x28 and 14x14 maps, where a training
step took 88 -> 74 ms at batch 64 and 162 -> 141 ms at 128 against F2 (two
threads, in-process alternation of 6). F4's larger transform entries round
more: about 6e-6 of a layer's largest output in float32, against 1e-6 for F2
and im2col, measured against float64 on those layers.

Arrays are channels-last (N, H, W, C) as in ``conv_ops``; the input must be
padded to ``m * tiles + 2`` rows and columns (``Tiling.tiled_pads``).
"""
import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import conv_ops, parallel


class Tiling:
    """F(m x m, 3x3): an (m+2) x (m+2) input tile d gives an m x m output tile as
    Y = A^T [(G w G^T) * (B^T d B)] A, with the three matrices below.

    Attributes:
        m: the output tile's side.
        alpha: the input tile's side, m + 2; each tile needs alpha**2 products.
        b_t: B^T, (alpha, alpha).
        a_t: A^T, (m, alpha).
        g: G, (alpha, 3): a 3-tap kernel row -> its alpha transformed taps.
        g2: kron(G, G), (alpha**2, 9): a 3x3 kernel's nine taps -> its alpha**2 transformed ones, G w G^T.
        grad_pads: how ``backward`` wants the output gradient padded, ((top, bottom), (left, right)): two
            zero rows and columns round it, so the input's gradient is a plain convolution of it, and up to
            m + 1 more at the bottom and right for the tiles that hang over the edge of either map.
    """

    def __init__(self, b_t, g, a_t):
        self.m, self.alpha = len(a_t), len(b_t)
        self.b_t, self.a_t, self.g = np.asarray(b_t), np.asarray(a_t), np.asarray(g)
        self.g2 = np.kron(self.g, self.g)
        self.grad_pads = ((2, self.m + 1), (2, self.m + 1))

    def tiles(self, out_hw):
        """Output tiles per column and row: a size that is not a multiple of m gets one that hangs over its edge."""
        return tuple(-(-size // self.m) for size in out_hw)

    def tiled_pads(self, pads, out_hw):
        """``pads`` with the rows (columns) at the bottom (right) that the last tiles hang over."""
        (t, b), (left, r) = pads
        (th, tw), (oh, ow) = self.tiles(out_hw), out_hw
        return (t, b + self.m * th - oh), (left, r + self.m * tw - ow)


# Lavin and Gray's F(2x2, 3x3), interpolating at 0, 1, -1 and infinity.
F2 = Tiling(b_t=np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]),
            g=np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]),
            a_t=np.array([[1, 1, 1, 0], [0, 1, -1, -1]]))
# F(4x4, 3x3) at 0, 1, -1, 2, -2 and infinity: 36 products a 4x4 tile (2.25 an output) instead of F2's 4.
F4 = Tiling(b_t=np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                          [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]),
            g=np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                        [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
            a_t=np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]))
TILINGS = (F2, F4)


def choose(kernel, stride, in_channels, filters, out_hw):
    """The tiling a Conv2D computes with, or None for im2col: 3x3, stride 1, and enough channels on both
    sides that the GEMMs are worth more than their transforms (a single-channel first layer is not).
    Of the tilings, the one with the fewest products over the output its tiles cover, edges included; on a
    tie F2, which rounds less (a 6x6 output: 144 products either way)."""
    if not (tuple(kernel) == (3, 3) and tuple(stride) == (1, 1) and min(in_channels, filters) >= 8):
        return None
    return min(TILINGS, key=lambda t: t.alpha ** 2 * np.prod(t.tiles(out_hw)))


def kernel_tiles(w, tiling):
    """U = G w G^T of every (filter, channel) kernel, as (alpha**2, C, F): the right-hand sides of the GEMMs.

    One product of kron(G, G) with the kernels' taps. It runs on the calling
    thread while the helpers wait, six times a training step for vgg_mini
    (each layer's kernel and its flipped one); as an einsum, its contraction
    chosen anew at every call, it took 0.14-0.36 ms a call, this way 0.01-0.11 ms.
    """
    f, c = w.shape[:2]
    taps = w.transpose(2, 3, 1, 0).reshape(9, c * f)
    return (tiling.g2.astype(w.dtype) @ taps).reshape(tiling.alpha ** 2, c, f)


def flipped(w):
    """The kernel that carries an output gradient back to the input: rotated 180 degrees, channels swapped."""
    return np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def _input_tiles(xp, tiling, th, tw):
    """B^T d B of every input tile of ``xp`` (k, >= m th + 2, >= m tw + 2, C), as (alpha**2, k*th*tw, C)."""
    k, c = xp.shape[0], xp.shape[3]
    m, a = tiling.m, tiling.alpha
    sn, sh, sw, sc = xp.strides
    windows = as_strided(xp, shape=(k, th, tw, a, a, c), strides=(sn, m * sh, m * sw, sh, sw, sc), writeable=False)
    d = np.empty((a, a, k, th, tw, c), xp.dtype)
    np.copyto(d, windows.transpose(3, 4, 0, 1, 2, 5))
    return _on_both_axes(tiling.b_t, d).reshape(a * a, k * th * tw, c)


def _output_tiles(g, tiling, th, tw):
    """A dY A^T of every m x m tile of the output gradient ``g`` (k, >= m th, >= m tw, F), as (alpha**2, k*th*tw, F)."""
    k, f = g.shape[0], g.shape[3]
    m = tiling.m
    blocks = g[:, :m * th, :m * tw].reshape(k, th, m, tw, m, f).transpose(2, 4, 0, 1, 3, 5)
    return _on_both_axes(tiling.a_t.T, np.ascontiguousarray(blocks)).reshape(tiling.alpha ** 2, k * th * tw, f)


def _on_both_axes(mat, tiles):
    """``mat @ X @ mat^T`` for every tile X of ``tiles`` (q, q, ...), whose first two axes hold a tile: (p, p, ...).

    Two passes of the small product, one an axis, rather than one of kron(mat, mat) on the flattened tile:
    a third of the multiplies for F4's 6x6 tiles. One thread, the input tiles of 8 images of 28x28x32:
    F4's 0.49 -> 0.33 ms, F2's 0.98 -> 0.56 ms.

    The first pass is q products, one a column of the tiles, not one product
    q times as wide (the second is already one a row): OpenBLAS ran a 6 x 6 by
    6 x 66,000 product (a chunk of vgg_mini's first wide layer) at a third of
    the speed of four a quarter as wide. The same bits, the transforms of a chunk 1.3-2x faster (F4's input
    tiles of 7 images of 28x28x32: 0.22 -> 0.15 ms; its output tiles of 8 of
    14x14x64: 0.13 -> 0.08 ms).
    """
    p, q = mat.shape
    mat = mat.astype(tiles.dtype)
    by_column = tiles.reshape(q, q, -1).transpose(1, 0, 2)   # (column, row, rest): a column's rows are a matrix
    rows = np.empty((p, q, by_column.shape[2]), tiles.dtype)
    np.matmul(mat, by_column, out=rows.transpose(1, 0, 2))
    return np.matmul(mat, rows)


def conv(xp, u, out_hw, tiling, out=None, finish=None, interior=None):
    """The 3x3 convolution of padded ``xp`` (N, >= m th + 2, >= m tw + 2, C) with ``u`` = kernel_tiles(w).

    Returns (out, [((start, stop), input tiles) of each chunk]): ``out`` (N, OH, OW, F) is written in place
    when given; the tiles are what ``backward`` would transform ``xp`` into again, with the images they hold.
    ``finish``, if given, is applied in place to each chunk's rows of ``out`` as soon as they are made, while
    they are in cache (a layer's bias and fused ReLU): as a pass over the whole output, vgg_mini's first
    bias took 1.4 ms at batch 128 on two threads.

    ``interior``, if given, is (x, pads): ``xp`` is ``conv_ops.pad_nhwc(x, pads, fill=False)``, not ``x``
    itself, its border made and its inside not yet written, and each chunk copies its own images in
    first. Copied whole on the calling thread, vgg_mini's padded inputs and gradients kept the helpers
    waiting about 3 ms a step (cProfile).
    """
    n, c = xp.shape[0], xp.shape[3]
    f = u.shape[2]
    out = np.empty((n, *out_hw, f), xp.dtype) if out is None else out
    chunks = _chunks(n, tiling, tiling.tiles(out_hw), c, f, xp.itemsize)
    tiles_of = parallel.run([functools.partial(_conv_chunk, xp[a:b], u, out[a:b], tiling, finish,
                                               _images(interior, a, b)) for a, b in chunks])
    return out, list(zip(chunks, tiles_of))


def _images(interior, a, b):
    """Images a to b of ``interior`` (x, pads), or None for none."""
    return None if interior is None else (interior[0][a:b], interior[1])


def _fill(xp, images):
    """Copy ``images`` (x, pads), if any, into the inside of ``xp``, their chunk of a padded array."""
    if images is not None:
        conv_ops.pad_into(xp, *images)


def _chunks(n, tiling, tiles_hw, c, f, itemsize):
    """The batch's chunks for ``conv`` and ``backward``: each image's tiles of C and of F channels."""
    return conv_ops.batch_chunks(n, tiling.alpha ** 2 * int(np.prod(tiles_hw)) * (c + f) * itemsize)


def _conv_chunk(xp, u, out, tiling, finish, images):
    """``conv`` of a few images, into their rows of ``out``, then ``finish``; returns their input tiles.
    ``images`` (x, pads), if given, are copied into ``xp`` first."""
    _fill(xp, images)
    k, oh, ow, f = out.shape
    m = tiling.m
    th, tw = tiling.tiles((oh, ow))
    v = _input_tiles(xp, tiling, th, tw)
    products = np.matmul(v, u)
    y = _on_both_axes(tiling.a_t, products.reshape(tiling.alpha, tiling.alpha, -1)).reshape(m, m, k, th, tw, f)
    out[:] = y.transpose(2, 3, 0, 4, 1, 5).reshape(k, m * th, m * tw, f)[:, :oh, :ow]
    if finish is not None:
        finish(out)
    return v


def backward(xp, gp, w, out_hw, tiling, in_window=None, kept=None, grad=None):
    """Gradients of the 3x3 convolution of ``xp`` with ``w`` (F, C, 3, 3), given ``gp``.

    Args:
        xp: the padded input the forward saw (N, >= m th + 2, >= m tw + 2, C).
        gp: the output gradient padded by ``tiling.grad_pads``: (N, OH + m + 3, OW + m + 3, F).
        w: the kernel.
        out_hw: (OH, OW).
        tiling: the forward's.
        in_window: (top, left, height, width) of the unpadded input inside ``xp``, to compute its gradient
            there alone (the padding's gradient is never needed); None for no input gradient.
        kept: what ``conv`` returned beside its output for ``xp`` (each chunk's images and input tiles), or
            None to transform ``xp`` again. Kept, they save a vgg_mini training step 4.5% at batch 64 and 8%
            at 128 (two threads); backward takes its chunks from them, so the tiles always fit their images.
        grad: None when ``gp`` is filled; else the output gradient (N, OH, OW, F), ``gp`` is
            ``conv_ops.pad_nhwc(grad, tiling.grad_pads, fill=False)``, and each chunk copies its own images
            in first (as ``conv``'s ``interior``).

    Returns:
        (dw of w's shape, dx of shape (N, height, width, C) or None).
    """
    n, c = xp.shape[0], xp.shape[3]
    f = w.shape[0]
    tiles_hw = tiling.tiles(out_hw)
    dx = u_back = None
    if in_window is not None:
        top, left, height, width = in_window
        dx = np.empty((n, height, width, c), xp.dtype)
        u_back = kernel_tiles(flipped(w), tiling)
    kept = kept or [(chunk, None) for chunk in _chunks(n, tiling, tiles_hw, c, f, xp.itemsize)]
    interior = None if grad is None else (grad, tiling.grad_pads)
    du = sum(parallel.run([functools.partial(_backward_chunk, xp[a:b], gp[a:b], tiling, tiles_hw, u_back,
                                             None if dx is None else dx[a:b], in_window, v, _images(interior, a, b))
                           for (a, b), v in kept]))
    dw = (tiling.g2.T.astype(du.dtype) @ du.reshape(tiling.alpha ** 2, c * f)).reshape(3, 3, c, f)   # G^T du G
    return np.ascontiguousarray(dw.transpose(3, 2, 0, 1)), dx


def _backward_chunk(xp, gp, tiling, tiles_hw, u_back, dx, in_window, v, images):
    """A few images' share of ``backward``: their (alpha**2, C, F) sum of tile products, and their ``dx`` rows.
    ``images`` (grad, pads), if given, are copied into ``gp`` first."""
    _fill(gp, images)
    v = _input_tiles(xp, tiling, *tiles_hw) if v is None else v
    du = np.matmul(v.transpose(0, 2, 1), _output_tiles(gp[:, 2:, 2:], tiling, *tiles_hw))
    if dx is not None:   # the input's gradient: the flipped kernel's convolution of the padded gradient
        top, left, height, width = in_window
        conv(gp[:, top:, left:], u_back, (height, width), tiling, dx)
    return du
