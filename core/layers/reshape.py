"""Flatten: (C, H, W) -> (C*H*W,), in C, H, W order as PyTorch flattens NCHW."""
import math

from .base import Layer, register


@register
class Flatten(Layer):
    """Turns a (channels, height, width) map into one vector, for Dense layers.

    Values keep C, H, W order, as PyTorch flattens NCHW, so Dense weights
    compare with PyTorch's directly.

    Input shape:
        (batch, ...) of any rank.

    Output shape:
        (batch, product of the other sizes).
    """

    category = "Fully connected"

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)  # exact: np.prod would overflow on absurd sizes

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self._shape)
