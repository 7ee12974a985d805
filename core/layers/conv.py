"""2-D convolution: W (out_channels, in_channels, kh, kw), b (out_channels,).

Forward is one im2col and one GEMM; backward reuses the forward's columns
for dW. For dx, each kernel offset's small GEMM is added straight onto its
strided slice of the input gradient: no columns-sized buffer is written and
read back, which halves the cost of a col2im. A first layer skips dx.
"""
import numpy as np

from .. import conv_ops, initializers
from ..keras_names import keras_names
from . import args
from .base import fmt_shape, register
from .dense import ParamLayer


@register
@keras_names(stride="strides")
class Conv2D(ParamLayer):
    def __init__(self, filters, kernel_size, stride=1, padding="valid", activation=None, init=None, seed=None):
        super().__init__(activation, init, seed)
        self.filters = args.positive_int(self, "filters", filters)
        self.kernel = args.pair(self, "kernel_size", kernel_size)
        self.stride = args.pair(self, "stride", stride)
        self.padding = args.conv_padding(self, padding)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (3,), "an image input (channels, height, width)")
        c, h, w = input_shape
        self.pads = conv_ops.resolve_padding(self.padding, (h, w), self.kernel, self.stride)
        hp, wp = h + sum(self.pads[0]), w + sum(self.pads[1])
        kh, kw = self.kernel
        if kh > hp or kw > wp:
            raise self.shape_error(f"kernel {fmt_shape((kh, kw), 'x')} is larger than its {fmt_shape((hp, wp), 'x')} "
                                   f"{'padded ' if (hp, wp) != (h, w) else ''}input")
        oh = conv_ops.output_size(h, kh, self.stride[0], sum(self.pads[0]))
        ow = conv_ops.output_size(w, kw, self.stride[1], sum(self.pads[1]))
        return (self.filters, oh, ow)

    def weight_shapes(self, input_shape):
        return {"W": (self.filters, input_shape[0], *self.kernel), "b": (self.filters,)}

    def build(self, input_shape):
        out = super().build(input_shape)
        shapes = self.weight_shapes(input_shape)
        if "W" not in self.params or self.params["W"].shape != shapes["W"]:
            self.params = {"W": initializers.initialize(self.init, shapes["W"], self.rng),
                           "b": np.zeros(shapes["b"], np.float32)}
        return out

    def _w_matrix(self):
        """W as (kh*kw*C, F): the row order of the channels-last columns."""
        return self.params["W"].transpose(2, 3, 1, 0).reshape(-1, self.filters)

    def linear_forward(self, x):
        n = x.shape[0]
        _, oh, ow = self.output_shape
        xp = conv_ops.pad_nhwc(conv_ops.to_nhwc(x), self.pads)
        self._xp_shape = xp.shape
        self._cols = conv_ops.im2col(xp, self.kernel, self.stride, (oh, ow))
        out = self._cols @ self._w_matrix()
        out += self.params["b"]
        return conv_ops.to_nchw(out.reshape(n, oh, ow, self.filters))

    def linear_backward(self, grad):
        n, f, oh, ow = grad.shape
        g = np.ascontiguousarray(conv_ops.to_nhwc(grad)).reshape(-1, f)
        kh, kw = self.kernel
        c = self.input_shape[0]
        dw = (self._cols.T @ g).reshape(kh, kw, c, f).transpose(3, 2, 0, 1)
        self.grads = {"W": np.ascontiguousarray(dw), "b": g.sum(axis=0)}
        self._cols = None
        if not self.need_input_grad:
            return None
        dxp = np.zeros(self._xp_shape, g.dtype)
        w = self.params["W"]
        for k, sl in conv_ops.offsets(self.kernel, self.stride, (oh, ow)):
            dxp[sl] += (g @ w[:, :, k // kw, k % kw]).reshape(n, oh, ow, c)
        return conv_ops.to_nchw(conv_ops.unpad_nhwc(dxp, self.pads))

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel), "stride": list(self.stride),
                "padding": self.padding, **self.base_config()}
