"""Convolution arithmetic as pure functions: output sizes, padding, and window offsets.

Conv2D and both pooling layers call these; nothing else computes windows but
``core.conv_regions``, which cuts a padded output into regions of them.

Arrays are channels-last (N, H, W, C) inside. im2col copies a strided
window *view* into a columns matrix in one NumPy copy; everything that adds
into windows (conv and pooling backward) or reduces over them (pooling) loops
over the kh*kw *kernel offsets*, each a strided slice of the whole batch whose
rows are runs of W*C contiguous floats (never a loop over pixels or samples).
Layers take and return logical NCHW arrays that are transposed *views*
of channels-last memory, so no layout copy happens between layers.
"""
import functools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import parallel


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


def pad_nhwc(x, pads, value=0.0, scratch=None, name="padded", fill=True):
    """``x`` (N, H, W, C) with ``value`` rows and columns around it; ``x`` itself when ``pads`` are zero.

    With a layer's ``scratch`` the padded array is reused from batch to batch
    (kept under ``name``): its border is filled once, when it is made, and
    each call copies only the interior (see ``core.scratch``). With ``fill``
    False that copy is left to the caller (``pad_into``), chunk by chunk.
    """
    (t, b), (left, r) = pads
    if not (t or b or left or r):
        return x
    n, h, w, c = x.shape
    shape = (n, h + t + b, w + left + r, c)
    out = np.full(shape, value, x.dtype) if scratch is None else scratch.get(name, shape, x.dtype, value)
    if fill:
        pad_into(out, x, pads)
    return out


def unpad_nhwc(xp, pads):
    (t, b), (left, r) = pads
    return xp[:, t:xp.shape[1] - b, left:xp.shape[2] - r, :]


def offsets(kernel, stride, out_hw):
    """Yield (i, j, index) and the NHWC slice of the inputs seen at kernel offset (i, j).

    The slice picks, for every output position, the input pixel under that
    kernel offset: ``xp[sl]`` has shape (N, OH, OW, C).
    """
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                               slice(j, j + sw * (ow - 1) + 1, sw), slice(None))


def tiles(in_hw, kernel, stride, out_hw):
    """True when the windows cover every input pixel exactly once: stride equal to the window and
    no row or column left over. Only then may a backward write into an uninitialised buffer;
    gaps between windows (stride > window) and uncovered edges must read as zero gradient."""
    return all(s == k and o * s == n for n, k, s, o in zip(in_hw, kernel, stride, out_hw))


def im2col(xp, kernel, stride, out_hw, out=None):
    """Columns (N*OH*OW, kh*kw*C) of padded NHWC ``xp``, contiguous, for one GEMM.

    Written into ``out`` when given (a layer's columns, kept from batch to batch).
    """
    view = windows(xp, kernel, stride, out_hw)
    if out is None:
        return view.reshape(len(xp) * math.prod(out_hw), -1)
    np.copyto(out.reshape(view.shape), view)
    return out


def windows(xp, kernel, stride, out_hw):
    """The read-only view (N, OH, OW, kh, kw, C) of padded NHWC ``xp``: the window under each output pixel."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    (kh, kw), (st_h, st_w), (oh, ow) = kernel, stride, out_hw
    return as_strided(xp, shape=(n, oh, ow, kh, kw, c), strides=(sn, sh * st_h, sw * st_w, sh, sw, sc),
                      writeable=False)


def tap_columns(xp, kernel, stride, out_hw, out):
    """Write the columns of single-channel NHWC ``xp`` into ``out`` (kh*kw, N, OH, OW), a row a kernel offset.

    One strided copy for every offset at once: a copy an offset (LeNet-5's
    25) held the interpreter between short copies, and two threads building
    their chunks at once waited for it in turn. First layers at batch 128 on
    two threads, a copy an offset against one: LeNet-5's 1.70 -> 1.34 ms,
    alexnet_mini's 0.74 -> 0.60 ms, cnn_small's 0.58 -> 0.49 ms.
    """
    by_offset = windows(xp, kernel, stride, out_hw)[..., 0].transpose(3, 4, 0, 1, 2)   # (kh, kw, N, OH, OW)
    # ``out`` is a slice of the batch, not contiguous: split its offset axis by strides, so that no reshape
    # can ever hand back a copy and the write be lost
    out_by_offset = as_strided(out, shape=by_offset.shape, strides=(kernel[1] * out.strides[0], *out.strides))
    np.copyto(out_by_offset, by_offset)


class AxisPhase(NamedTuple):
    """One axis's input positions of one residue of the stride, and the output gradient that reaches them.

    The positions are ``start``, ``start + stride``, ... (``count`` of them,
    in the unpadded input). The kernel offsets ``taps`` reach them, in the
    order of a window sliding over the output gradient: the offset reaching
    the earliest output first. For the phase's first position that window
    starts at row ``first`` of the gradient padded by ``before`` and
    ``after`` zero rows (the outputs off its edges). No taps: no output
    sees these positions (a stride longer than the kernel).
    """
    start: int
    count: int
    taps: tuple
    first: int
    before: int
    after: int

    def positions(self, stride):
        """The phase's input positions as a slice of its axis."""
        return slice(self.start, self.start + stride * (self.count - 1) + 1, stride)


def _axis_phases(n, pad, k, s, n_out):
    """The ``AxisPhase``s of an axis of ``n`` inputs, ``pad`` before them, kernel ``k``, stride ``s``.

    Only the residues the inputs have, at most ``n`` of them: a model file may ask for a stride of a
    billion.
    """
    phases = []
    for r in sorted({(pad + i) % s for i in range(min(n, s))}):   # padded position r + s*t is reached by
        t0, t1 = -(-(pad - r) // s), -(-(pad + n - r) // s)       # offsets r + s*j from output t - j
        taps = tuple(range(r, k, s))[::-1]
        before, after = max(0, len(taps) - 1 - t0), max(0, t1 - n_out)
        phases.append(AxisPhase(r + s * t0 - pad, t1 - t0, taps, t0 - len(taps) + 1 + before, before, after))
    return phases


def phase_products(phases):
    """How many (input pixel, kernel offset) products the input gradient by ``phases`` makes, per channel pair."""
    return sum(py.count * px.count * len(py.taps) * len(px.taps) for py, px in phases)


@functools.cache
def input_grad_phases(in_hw, kernel, stride, pads, out_hw):
    """The (rows, columns) ``AxisPhase`` pairs of a strided convolution's input gradient, or None.

    Each pair picks the input pixels a stride's residues pick on both axes:
    the same kernel offsets reach all of them, so their gradient is one
    product of the output gradient's windows (a stride-1 window of the taps)
    with those offsets' weights, written once. Adding each offset's product
    onto its slice of the padded input instead also makes the products that
    land on the padding: at stride 2 and padding 1, alexnet_mini's second
    and third layers spend 18% and 31% of them there. None when the
    phases make no fewer products (as without padding, where the
    gradient's own zero border costs them more).

    Args:
        in_hw: the input's (height, width), unpadded.
        kernel, stride, out_hw: the layer's.
        pads: ((top, bottom), (left, right)), as ``resolve_padding`` gives them.
    """
    rows, cols = (_axis_phases(n, p[0], k, s, o) for n, p, k, s, o in zip(in_hw, pads, kernel, stride, out_hw))
    phases = [(py, px) for py in rows for px in cols]
    return phases if phase_products(phases) < math.prod(out_hw) * math.prod(kernel) else None


CHUNK_BYTES = 2 << 20   # about a core's L2 cache: the best of 1-8 MB for vgg_mini's layers


def batch_chunks(n, bytes_per_sample, flops=0.0):
    """(start, stop) slices of a batch of ``n``, each about ``CHUNK_BYTES`` of per-sample arrays.

    A pass over a whole batch's 13 MB gradient streams from memory every time;
    the same passes over one chunk after another find it in cache. Used where
    several passes read and write the same arrays: conv's columns and input
    gradient, Winograd's tiles (``core.winograd``) and pooling's backward.
    Those loops run their chunks on numpynet's threads (``core.parallel``),
    so more than one chunk come in a multiple of the threads they go to, of
    equal size, that each thread gets as much work. A batch that fits one
    chunk stays one (handing it to a thread costs 0.025-0.17 ms, more than it
    saves) unless its products, ``flops`` of them, are worth splitting as a
    product alone would be (``parallel.matmul``).

    Args:
        n: the batch size.
        bytes_per_sample: what one image's share of the arrays the passes touch takes.
        flops: the work of the products on the whole batch, if any.
    """
    chunks = max(-(-n // max(1, CHUNK_BYTES // max(bytes_per_sample, 1))),
                 parallel.parts_for(flops, parallel.MIN_SPLIT_FLOPS / 2))
    if chunks > 1:
        threads = parallel.parts_for(n, 1)   # at most one an image; 1 inside a thread's own share of a run
        chunks = -(-chunks // threads) * threads
    step = -(-n // min(n, chunks))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def pad_into(xp, x, pads):
    """Copy ``x`` (N, H, W, C) into the interior of ``xp``, which ``pad_nhwc`` made with ``pads`` round it.

    Lets a chunk of a batch fill its own images of a padded array another thread fills the rest of.
    """
    (t, _), (left, _) = pads
    xp[:, t:t + x.shape[1], left:left + x.shape[2], :] = x


def to_nhwc(x):
    """The channels-last view of a logical NCHW array (free when memory is already NHWC)."""
    return x.transpose(0, 2, 3, 1)


def to_nchw(x):
    return x.transpose(0, 3, 1, 2)
