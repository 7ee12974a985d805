"""Fully connected layer: W (in_features, out_features), b (out_features,)."""
import functools

import numpy as np

from .. import initializers, parallel
from . import args
from .base import ParamLayer, register


@register
class Dense(ParamLayer):
    """Fully connected: every output is a weighted sum of every input.

    ``y = activation(x @ W + b)`` with ``W`` of shape (in_features, units) and
    ``b`` of shape (units,), the layout Keras uses.

    Args:
        units: number of outputs (neurons), each connected to every input. The last Dense layer of a
            classifier has one unit per class.
        activation: applied to the output, as if that activation layer followed: "relu", "leaky_relu",
            "sigmoid", "tanh", "softmax", or None (or "linear") for none.
        init: how the weights start, a name from ``core.initializers.NAMES``. None (automatic) takes
            he_uniform when the output meets a ReLU (here or in a later activation layer),
            glorot_uniform before tanh or sigmoid, lecun_uniform otherwise. The bias starts at zero.
        seed: seeds this layer's weights alone; None draws them from the model's seed.

    Input shape:
        (batch, features): put Flatten before it for images.

    Output shape:
        (batch, units).

    Raises:
        ArgumentError: ``units`` is not an int of at least 1, or an unknown activation or initialiser.

    Example:
        >>> Dense(10, activation="relu").build((784,))
        (10,)
    """

    category = "Fully connected"

    def __init__(self, units, activation=None, init=None, seed=None):
        super().__init__(activation, init, seed)
        self.units = args.positive_int(self, "units", units)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (1,), "a flat (features,) input; add Flatten before it")
        return (self.units,)

    def weight_shapes(self, input_shape):
        return {"W": (input_shape[0], self.units), "b": (self.units,)}

    def build(self, input_shape):
        out = super().build(input_shape)
        shapes = self.weight_shapes(input_shape)
        if "W" not in self.params or self.params["W"].shape != shapes["W"]:
            self.params = {"W": initializers.initialize(self.init, shapes["W"], self.rng),
                           "b": np.zeros(shapes["b"], np.float32)}
        return out

    def linear_forward(self, x, then=None):
        self._x = x
        return parallel.matmul(x, self.params["W"], functools.partial(self._finish, then=then))

    def _finish(self, block, cols, then):
        """Add the bias to a block of the output (the columns ``cols``), then ``then``, while it is in cache."""
        block += self.params["b"][cols]
        if then is not None:
            then(block)

    def linear_backward(self, grad):
        products = [(self._x.T, grad)] + ([(grad, self.params["W"].T)] if self.need_input_grad else [])
        dw, *dx = parallel.matmuls(*products)   # dW and dx side by side, one a thread
        self.grads = {"W": dw, "b": self.scratch.column_sums(grad)}
        return dx[0] if dx else None

    def get_config(self):
        return {"units": self.units, **self.base_config()}
