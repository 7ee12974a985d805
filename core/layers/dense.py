"""Fully connected layer: W (in_features, out_features), b (out_features,)."""
import numpy as np

from .. import initializers
from . import args
from .activations import ACTIVATIONS, make_activation
from .base import Layer, register


class ParamLayer(Layer):
    """A layer with weights, an initialiser and an optional fused activation.

    ``activation='relu'`` is the Keras shorthand for a ReLU layer right after
    this one; the activation runs inside forward/backward, so the model sees
    one layer.
    """

    def __init__(self, activation=None, init=None, seed=None):
        super().__init__()
        activation = args.choice(self, "activation", activation, ("linear", *ACTIVATIONS))
        self.activation = None if activation == "linear" else activation
        self.act = make_activation(self.activation)
        self.init = (args.choice(self, "init", init, initializers.NAMES)
                     or initializers.default_for(self.activation))
        self.init_chosen = init is not None
        self.seed = args.seed(self, seed)
        self.rng = np.random.default_rng(seed)

    def meet(self, following, redraw=False):
        """Take the default initialiser of the activation this layer's output meets in its model.

        ``Dense(n, activation="relu")`` and ``Dense(n), ReLU()`` are one network and
        must start alike; the model calls this before building the layer. An
        initialiser the user chose (or a loaded model recorded) and a fused
        activation are kept. Weights already drawn with another default are
        redrawn only with ``redraw``: a model still being assembled by ``add``.
        """
        if self.init_chosen or self.activation:
            return
        init = initializers.default_for(activation_after(following))
        if init != self.init and (redraw or not self.params):
            self.init, self.params = init, {}

    def forward(self, x, training=False):
        y = self.linear_forward(x)
        return self.act.forward(y, training) if self.act else y

    def backward(self, grad):
        if self.act:
            grad = self.act.backward(grad)
        return self.linear_backward(grad)

    def base_config(self):
        """``init`` is None unless chosen: rebuilt from its config, the layer meets its activation again
        and takes the same default, and an editor showing the config does not freeze that default."""
        return {"activation": self.activation, "init": self.init if self.init_chosen else None}


def activation_after(layers):
    """Name of the first activation among ``layers`` (None if a layer with weights comes first).

    Pooling, Flatten, Dropout and BatchNorm in between are looked through: they
    keep the signs of what reaches the activation, or only rescale it.
    """
    for layer in layers:
        if isinstance(layer, ParamLayer):
            return None
        names = [name for name, cls in ACTIVATIONS.items() if type(layer) is cls]
        if names:
            return names[0]
    return None


@register
class Dense(ParamLayer):
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

    def linear_forward(self, x):
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def linear_backward(self, grad):
        self.grads = {"W": self._x.T @ grad, "b": grad.sum(axis=0)}
        return grad @ self.params["W"].T if self.need_input_grad else None

    def get_config(self):
        return {"units": self.units, **self.base_config()}
