"""Max and average pooling over any window, stride and padding.

Both are a loop over the kernel offsets (``conv_ops.offsets``): a running
maximum or sum of strided slices, so overlapping windows (stride < size)
need no special code and nothing is gathered into window arrays.
Max pooling finds the winner again in backward from the kept input and
output; a tie sends the gradient to the first maximum only, as PyTorch does.
Average pooling counts padded zeros in the window, as PyTorch's default does.
Arrays they make follow the input's memory order (``order="K"``), channels-last
or channel by channel (a small first convolution's, see ``Conv2D.channel_major``),
so each pass runs along the same rows as its input.
"""
import functools

import numpy as np

from .. import conv_ops, parallel
from ..keras_names import keras_names
from . import args
from .base import Layer, fmt_shape, register


@keras_names(stride="strides")
class Pool2D(Layer):
    """Base of the pooling layers: the window, stride and padding, and the loop over window offsets.

    A subclass must define ``combine`` (the ufunc that folds a window offset
    into the running result) and ``scatter`` (below), and may set
    ``pad_value``: what the padding holds (0 here; max pooling pads with −∞).
    Its own docstring documents the arguments (``pool_size``, ``stride``,
    ``padding``) in Keras's layout.
    """

    category = "Pooling"
    pad_value = 0.0
    combine = None   # a subclass's ufunc, as np.maximum

    def __init__(self, pool_size=2, stride=None, padding=0):
        super().__init__()
        self.pool = args.pair(self, "pool_size", pool_size)
        self.stride = self.pool if stride is None else args.pair(self, "stride", stride)
        self.padding = args.non_negative_int(self, "padding", padding)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (3,), "an image input (channels, height, width)")
        c, h, w = input_shape
        p = self.padding
        if p * 2 > min(self.pool):
            raise self.shape_error(f"padding {p} is more than half of the {fmt_shape(self.pool, 'x')} window")
        self.pads = ((p, p), (p, p))
        if self.pool[0] > h + 2 * p or self.pool[1] > w + 2 * p:
            raise self.shape_error(f"window {fmt_shape(self.pool, 'x')} is larger than its "
                                   f"{fmt_shape((h, w), 'x')} input")
        oh = conv_ops.output_size(h, self.pool[0], self.stride[0], 2 * p)
        ow = conv_ops.output_size(w, self.pool[1], self.stride[1], 2 * p)
        return (c, oh, ow)

    def _offsets(self):
        return conv_ops.offsets(self.pool, self.stride, self.output_shape[1:])

    def forward(self, x, training=False):
        xp = conv_ops.pad_nhwc(conv_ops.to_nhwc(x), self.pads, self.pad_value, self.scratch)
        self._xp = xp
        n, (_, oh, ow) = len(xp), self.output_shape
        out = np.empty_like(xp[:, :oh, :ow])   # the input's memory order: channels-last or channel by channel
        parallel.run([functools.partial(self.reduce, xp[a:b], out[a:b])
                      for a, b in conv_ops.batch_chunks(n, (xp[0].size + out[0].size) * xp.itemsize)])
        self._out = out
        return conv_ops.to_nchw(out)

    def backward(self, grad):
        # Disjoint windows (stride >= size) may write each offset's slice instead of adding;
        # the buffer starts empty only when they also leave no pixel uncovered.
        overlap = any(st < k for st, k in zip(self.stride, self.pool))
        tiled = conv_ops.tiles(self._xp.shape[1:3], self.pool, self.stride, self.output_shape[1:])
        dxp = (np.empty_like if tiled else np.zeros_like)(self._xp, grad.dtype)   # in the input's memory order
        g = conv_ops.to_nhwc(grad)
        # a few images at a time: the passes over each window offset find the chunk in cache
        parallel.run([functools.partial(self._scatter_chunk, dxp[start:stop], g[start:stop], overlap, start, stop)
                      for start, stop in conv_ops.batch_chunks(len(g), (dxp[0].size + g[0].size) * dxp.itemsize)])
        self._xp = self._out = None
        return conv_ops.to_nchw(conv_ops.unpad_nhwc(dxp, self.pads))

    def _scatter_chunk(self, dxp, g, overlap, start, stop):
        """``scatter`` images start to stop, their gradient first copied into the output's memory order.

        The gradient from Flatten is laid out image by image while a pooled map
        may be channels-last or channel by channel; every pass of ``scatter``
        over the two orders at once runs in short strided steps. The copy costs
        one pass: cnn_small's pooling backward went from 0.58 to 0.34 ms at batch 64 (one thread).
        """
        in_order = np.empty_like(self._out[start:stop], g.dtype)
        if in_order.strides != g.strides:
            in_order[...] = g
            g = in_order
        self.scatter(dxp, g, overlap, slice(start, stop))

    def reduce(self, xp, out):
        """Write into ``out`` (N, OH, OW, C) the pooled value of each window of ``xp``: one value per window.

        A running ``combine`` of the window offsets' slices. ``forward`` calls it
        on a few images at a time, on numpynet's threads, and keeps the whole
        output as ``self._out`` for ``scatter``.

        Args:
            xp: the padded input, channels-last (N, H + pads, W + pads, C).
            out: where the pooled output goes (N, OH, OW, C).
        """
        if self.combine is None:
            raise NotImplementedError(f"{type(self).__name__} defines no combine")
        for k, sl in self._offsets():
            if k == 0:
                out[...] = xp[sl]
            else:
                self.combine(out, xp[sl], out=out)

    def scatter(self, dxp, g, overlap, images):
        """Spread the output gradient ``g`` (N, OH, OW, C) over ``dxp``, the padded input's gradient.

        ``dxp`` is uninitialised where windows tile the input without overlap
        and zeros otherwise; with ``overlap`` windows share pixels, so each
        offset's share must be added, else it may be written.

        Args:
            dxp: the padded input's gradient (N, H + pads, W + pads, C), filled in place.
            g: the output's gradient, channels-last (N, OH, OW, C).
            overlap: True when windows overlap (stride < window on some axis).
            images: the slice of the batch that ``dxp`` and ``g`` hold (of what ``reduce`` kept).
        """
        raise NotImplementedError(f"{type(self).__name__} defines no scatter")

    def get_config(self):
        return {"pool_size": list(self.pool), "stride": list(self.stride), "padding": self.padding}


@register
class MaxPool2D(Pool2D):
    """Max pooling: keeps the largest value of each window; a 2 × 2 window halves the map.

    Backward sends each window's gradient to its first maximum only (as PyTorch does).

    Args:
        pool_size: height and width of the window, one int for a square.
        stride: step between windows (rows, columns), one int for both; None takes the window size, so
            windows tile the input. Stride s divides the output size by about s.
        padding: rows and columns added on every side, at most half the window. Max pooling pads with −∞,
            so padding never wins a window.

    Input shape:
        (batch, channels, height, width).

    Output shape:
        (batch, channels, new_height, new_width), each side ``(size + 2 * padding - window) // stride + 1``.

    Raises:
        ArgumentError: a window or stride that is not a positive int (or pair), a negative padding.
        ShapeError: at build, an input that is not an image, a window larger than its input, or padding
            more than half the window.

    Example:
        >>> MaxPool2D(2).build((20, 24, 24))
        (20, 12, 12)
    """

    pad_value = -np.inf
    combine = np.maximum

    def scatter(self, dxp, g, overlap, images):
        xp, out = self._xp[images], self._out[images]
        free = np.ones_like(out, bool)  # windows whose maximum has not been claimed yet
        win = np.empty_like(free)
        for _, sl in self._offsets():
            np.equal(xp[sl], out, out=win)
            win &= free
            free ^= win
            if overlap:
                dxp[sl] += g * win
            else:
                np.multiply(g, win, out=dxp[sl])


@register
class AvgPool2D(Pool2D):
    """Average pooling: the mean of each window, a smoother downsampling than max pooling.

    Padded zeros count in the mean, as PyTorch's default does.

    Args:
        pool_size: height and width of the window, one int for a square.
        stride: step between windows (rows, columns), one int for both; None takes the window size, so
            windows tile the input. Stride s divides the output size by about s.
        padding: rows and columns added on every side, at most half the window. Average pooling pads with zeros
            that count in the mean.

    Input shape:
        (batch, channels, height, width).

    Output shape:
        (batch, channels, new_height, new_width), each side ``(size + 2 * padding - window) // stride + 1``.

    Raises:
        ArgumentError: a window or stride that is not a positive int (or pair), a negative padding.
        ShapeError: at build, an input that is not an image, a window larger than its input, or padding
            more than half the window.

    Example:
        >>> AvgPool2D(2, stride=1).build((3, 4, 4))
        (3, 3, 3)
    """

    combine = np.add

    def reduce(self, xp, out):
        super().reduce(xp, out)
        out *= np.asarray(1.0 / (self.pool[0] * self.pool[1]), out.dtype)

    def scatter(self, dxp, g, overlap, images):
        g = g * np.asarray(1.0 / (self.pool[0] * self.pool[1]), g.dtype)
        for _, sl in self._offsets():
            if overlap:
                dxp[sl] += g
            else:
                dxp[sl] = g
