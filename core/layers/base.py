"""The Layer contract every layer follows, and the one registry of layer types.

A layer is configured in ``__init__``, creates its parameters in
``build(input_shape)`` once the shape is known (shapes exclude the batch
axis), and keeps between ``forward`` and ``backward`` exactly what backward
needs. ``params`` holds trainable arrays, ``grads`` their gradients under the
same keys, ``buffers`` non-trainable state that is saved with the model
(BatchNorm's running statistics). ``trainable = False`` freezes a layer
(Keras's meaning): ``fit`` leaves its params alone and a frozen BatchNorm
runs in inference mode. It is saved beside the config, in the layer's entry.
"""
import inspect

import numpy as np

from ..errors import ArgumentError, ShapeError

_REGISTRY = {}


def register(cls):
    """Class decorator: make a layer type known to ``from_config`` by its class name.

    A layer of your own needs it before a model holding it can be saved and
    loaded: ``load_model`` rebuilds it as ``cls(**layer.get_config())``.
    """
    _REGISTRY[cls.__name__] = cls
    return cls


def layer_types():
    """Names of every registered layer type, in registration order."""
    return list(_REGISTRY)


def layer_class(type_name):
    try:
        return _REGISTRY[type_name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise ValueError(f"unknown layer type {type_name!r}; known types: {known}") from None


def from_config(entry):
    """Rebuild a layer from ``{"type": ..., "config": {...}}`` (what ``to_entry`` gives).

    An argument the type does not take is a ValueError naming the type and what it takes
    (Python's own TypeError would blame ``Layer.__init__`` for an activation layer).
    """
    cls = layer_class(entry["type"])
    config = entry.get("config", {})
    takes = inspect.signature(cls).parameters
    unknown = [str(k) for k in config if k not in takes]
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown argument{'s' * (len(unknown) > 1)} {', '.join(unknown)}; "
                         f"it takes {', '.join(takes) or 'none'}")
    layer = cls(**config)
    layer.trainable = entry.get("trainable", True)
    return layer


def to_entry(layer):
    return make_entry(type(layer).__name__, layer.get_config(), layer.trainable)


def make_entry(type_name, config, trainable=True):
    """``{"type": ..., "config": {...}}``, with ``"trainable": false`` for a frozen layer.

    The flag sits beside the config, not in it: it is the base class's, not an
    argument of any layer's constructor, and a trainable layer's entry stays as it was.
    """
    return {"type": type_name, "config": config, **({} if trainable else {"trainable": False})}


class Layer:
    """Base class: a layer without parameters that passes shapes through."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.input_shape = None
        self.output_shape = None
        self.index = None          # 1-based position in its model, for messages
        self.need_input_grad = True  # False before a model's first parameters: saves work
        self.trainable = True

    @property
    def trainable(self):
        """False freezes the layer: ``fit`` leaves its params bit for bit and keeps no optimizer slots for it."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ArgumentError(type(self).__name__, "trainable", f"must be True or False, got {value!r}")
        self._trainable = bool(value)

    @property
    def name(self):
        where = f" #{self.index}" if self.index is not None else ""
        return f"{type(self).__name__}{where}"

    def build(self, input_shape):
        """Create parameters for ``input_shape`` (no batch axis); return the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        return self.output_shape

    def compute_output_shape(self, input_shape):
        return input_shape

    def weight_shapes(self, input_shape):
        """Shapes of the params and buffers ``build`` makes for ``input_shape``, by name.

        Known before anything is allocated, so a weights file can be checked
        against an architecture cheaply (see ``serialization``).
        """
        return {}

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def get_config(self):
        return {}

    def weight_names(self):
        """The names of ``get_weights``'s arrays, in its order: params, then buffers.

        Dense and Conv2D: ``W``, ``b``; BatchNorm: ``gamma``, ``beta``, ``mean``, ``var``
        (Keras's order: kernel, bias; gamma, beta, moving mean, moving variance).
        """
        return [*self.params, *self.buffers]

    def get_weights(self):
        """Copies of the layer's arrays as a list, in ``weight_names`` order ([] before it is built)."""
        values = {**self.params, **self.buffers}
        return [values[name].copy() for name in self.weight_names()]

    def set_weights(self, weights):
        """Copy a list of arrays, in ``weight_names`` order, into the layer (cast to its dtype).

        Checks every array before changing any: a wrong count, shape or kind is a
        ShapeError naming the layer and the weight.
        """
        names = self.weight_names()
        listed = ", ".join(names) or "none: the layer is not built yet; add it to a model with an input_shape"
        if not isinstance(weights, (list, tuple)):
            raise self.shape_error(f"set_weights takes a list of arrays ({listed}), got {type(weights).__name__}")
        if len(weights) != len(names):
            raise self.shape_error(f"set_weights takes {len(names)} arrays ({listed}), got {len(weights)}")
        targets = [{**self.params, **self.buffers}[name] for name in names]
        given = [np.asarray(w) for w in weights]
        for name, target, value in zip(names, targets, given):
            if value.dtype.kind not in "biuf":
                raise self.shape_error(f"set_weights: {name} must hold numbers, got {value.dtype}")
            if value.shape != target.shape:
                raise self.shape_error(f"set_weights: {name} must have shape {fmt_shape(target.shape)}, "
                                       f"got {fmt_shape(value.shape)}")
        for target, value in zip(targets, given):
            np.copyto(target, value, casting="unsafe")

    def count_params(self):
        return int(sum(p.size for p in self.params.values()))

    def shape_error(self, message):
        return ShapeError(f"{self.name}: {message}", layer_index=self.index)

    def _require_rank(self, input_shape, ranks, what):
        if len(input_shape) not in ranks:
            raise self.shape_error(
                f"expects {what}, got input of shape {fmt_shape(input_shape)}")


def fmt_shape(shape, sep=None):
    """A shape as every core message writes it: "(1, 28, 28)"; joined by ``sep`` where a size reads as
    one word ("kernel 5x5 is larger than its 3x3 input", "takes 1×28×28 images")."""
    dims = [str(d) for d in shape]
    return sep.join(dims) if sep else "(" + ", ".join(dims) + ")"


def zero_grads(params):
    return {k: np.zeros_like(v) for k, v in params.items()}
