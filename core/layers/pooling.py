"""Max and average pooling over any window, stride and padding.

Both read windows through ``conv_ops.windows`` and send gradients back
through ``conv_ops.col2im``, so overlapping windows (stride < size) need no
special code. Max pooling keeps the argmax of each window from forward; a tie
sends the gradient to the first maximum only, as PyTorch does.
Average pooling counts padded zeros in the window, as PyTorch's default does.
"""
import numpy as np

from .. import conv_ops
from .base import Layer, register
from .conv import pair


class Pool2D(Layer):
    def __init__(self, pool_size=2, stride=None, padding=0):
        super().__init__()
        self.pool = pair(pool_size, "pool_size")
        self.stride = pair(stride, "stride") if stride is not None else self.pool
        if not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"pool padding must be a non-negative int, got {padding!r}")
        self.padding = int(padding)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (3,), "an image input (channels, height, width)")
        c, h, w = input_shape
        p = self.padding
        if p * 2 > min(self.pool):
            raise self.shape_error(f"padding {p} is more than half of the {self.pool[0]}x{self.pool[1]} window")
        self.pads = ((p, p), (p, p))
        if self.pool[0] > h + 2 * p or self.pool[1] > w + 2 * p:
            raise self.shape_error(f"window {self.pool[0]}x{self.pool[1]} is larger than its {h}x{w} input")
        oh = conv_ops.output_size(h, self.pool[0], self.stride[0], 2 * p)
        ow = conv_ops.output_size(w, self.pool[1], self.stride[1], 2 * p)
        return (c, oh, ow)

    def _windows(self, x, pad_value):
        _, oh, ow = self.output_shape
        xp = conv_ops.pad_nhwc(conv_ops.to_nhwc(x), self.pads, pad_value)
        self._xp_shape = xp.shape
        return conv_ops.windows(xp, self.pool, self.stride, (oh, ow))

    def _to_input(self, dwin):
        return conv_ops.to_nchw(conv_ops.col2im(dwin, self._xp_shape, self.pool, self.stride, self.pads))

    def get_config(self):
        return {"pool_size": list(self.pool), "stride": list(self.stride), "padding": self.padding}


@register
class MaxPool2D(Pool2D):
    def forward(self, x, training=False):
        win = self._windows(x, -np.inf)
        n, oh, ow, kh, kw, c = win.shape
        flat = win.reshape(n, oh, ow, kh * kw, c)
        self._arg = flat.argmax(axis=3)[:, :, :, None, :]
        return conv_ops.to_nchw(np.take_along_axis(flat, self._arg, axis=3)[:, :, :, 0, :])

    def backward(self, grad):
        n, c, oh, ow = grad.shape
        kh, kw = self.pool
        dwin = np.zeros((n, oh, ow, kh * kw, c), grad.dtype)
        np.put_along_axis(dwin, self._arg, conv_ops.to_nhwc(grad)[:, :, :, None, :], axis=3)
        return self._to_input(dwin.reshape(n, oh, ow, kh, kw, c))


@register
class AvgPool2D(Pool2D):
    def forward(self, x, training=False):
        return conv_ops.to_nchw(self._windows(x, 0.0).mean(axis=(3, 4), dtype=x.dtype))

    def backward(self, grad):
        n, c, oh, ow = grad.shape
        kh, kw = self.pool
        g = conv_ops.to_nhwc(grad) * np.asarray(1.0 / (kh * kw), grad.dtype)
        dwin = np.broadcast_to(g[:, :, :, None, None, :], (n, oh, ow, kh, kw, c))
        return self._to_input(dwin)
