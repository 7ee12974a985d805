"""A layer type defined outside core, as a user or a newcomer writes one (with the ``registry`` fixture)."""
import numpy as np

from core.layers import Layer, args, register


def define_scale():
    """Register a Scale layer the one documented way: a ``Layer`` subclass and ``@register``, nothing else."""

    @register
    class Scale(Layer):
        """Multiplies every input by a constant factor.

        Args:
            factor: the number every input is multiplied by; a positive
                number (a gain in front of the next layer).

        Input shape:
            any shape (batch first).

        Output shape:
            the input's shape.
        """

        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = args.positive_number(self, "factor", factor)

        def forward(self, x, training=False):
            return x * np.asarray(self.factor, x.dtype)

        def backward(self, grad):
            return grad * np.asarray(self.factor, grad.dtype)

    return Scale
