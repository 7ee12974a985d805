"""The Layer contract every layer follows, the layer with weights, and the one registry of layer types.

A layer type is one class: decorated with ``@register``, it is known to
``from_config`` (and so to model files), to the editor's palette and form,
and to the API reference. Its signature gives the configuration's keys and
its docstring the descriptions; nothing else lists layer types.

``trainable = False`` freezes a layer (Keras's meaning): ``fit`` leaves its
params alone and a frozen BatchNorm runs in inference mode. The flag is saved
beside the config, in the layer's entry (``make_entry``).
"""
import inspect

import numpy as np

from .. import initializers
from ..errors import ArgumentError, ShapeError
from ..scratch import Scratch
from . import args

_REGISTRY = {}


def register(cls):
    """Class decorator: the one way to make a layer type known (model files, the editor, ``layer_types``).

    A layer type of your own needs it before a model holding it can be saved
    and loaded: ``load_model`` rebuilds it as ``cls(**layer.get_config())``.

    Args:
        cls: a ``Layer`` subclass. Its class name is its type name in configurations.

    Returns:
        ``cls`` itself, so it can be used as ``@register`` above the class.
    """
    _REGISTRY[cls.__name__] = cls
    return cls


def layer_types():
    """Names of every registered layer type, in registration order."""
    return list(_REGISTRY)


def layer_class(type_name):
    """The registered class named ``type_name``.

    Args:
        type_name: a class name as configurations write it ("Conv2D").

    Raises:
        ValueError: no layer type of that name is registered; the message lists the known ones.
    """
    try:
        return _REGISTRY[type_name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise ValueError(f"unknown layer type {type_name!r}; known types: {known}") from None


def activations():
    """The layers ``activation=`` names, ``{name: class}`` in registration order ('relu': ReLU, ...).

    A registered class joins by declaring ``activation_name`` itself (a subclass does not inherit the name).
    """
    return {cls.__dict__["activation_name"]: cls for cls in _REGISTRY.values()
            if cls.__dict__.get("activation_name")}


def from_config(entry):
    """Rebuild a layer from ``{"type": ..., "config": {...}}`` (what ``to_entry`` gives).

    An argument the type does not take is a ValueError naming the type and what it takes
    (Python's own TypeError would blame ``Layer.__init__`` for an activation layer).

    Args:
        entry: ``{"type": "Conv2D", "config": {"filters": 20, "kernel_size": [5, 5], ...}}``; a
            missing config means the defaults.

    Returns:
        A new, unbuilt layer.

    Raises:
        ValueError: an unknown type, an argument the type does not take, or a value its checks refuse
            (an ``ArgumentError`` naming the layer and the argument).
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
    """``{"type": ..., "config": ...}`` for ``layer``: the entry a model file stores and ``from_config`` reads.

    Args:
        layer: a layer of a registered type.
    """
    return make_entry(type(layer).__name__, layer.get_config(), layer.trainable)


def make_entry(type_name, config, trainable=True):
    """A layer's entry: ``{"type": ..., "config": {...}}``, with ``"trainable": false`` for a frozen layer.

    The flag sits beside the config, not in it: it is the base class's, not an
    argument of any layer's constructor, and a trainable layer's entry stays as it was.

    Args:
        type_name: the registered class name.
        config: the constructor's arguments by name.
        trainable: False for a frozen layer.
    """
    return {"type": type_name, "config": config, **({} if trainable else {"trainable": False})}


class Layer:
    """Base class of every layer: the contract a layer type follows.

    A layer is configured in ``__init__``, creates its parameters in
    ``build(input_shape)`` once the shape is known (shapes exclude the batch
    axis), and keeps between ``forward`` and ``backward`` exactly what
    backward needs. Used alone, ``Layer`` passes its input through unchanged
    in shape; it has no ``forward``.

    A subclass must define:
        forward(x, training=False): the output of a batch ``x`` (batch axis first). Keep on ``self``
            what ``backward`` needs; ``training`` is True inside ``fit``.
        backward(grad): the gradient with respect to the input, given the gradient with respect to the
            output; fill ``self.grads`` under the keys of ``self.params``. May return None when
            ``need_input_grad`` is False.
        its class docstring, in Keras's layout: one summary line (the editor's palette shows it),
            ``Args:`` with a ``name: help`` entry per constructor argument (the editor's tooltips),
            ``Input shape:`` and ``Output shape:``.

    A subclass may define:
        __init__(...): keyword arguments with defaults, each checked with ``core.layers.args`` and stored
            under its own name. Then ``get_config`` and the editor's form need no code.
        compute_output_shape(input_shape): the output shape, raising ``self.shape_error(...)`` for an
            input it cannot take. Default: the input shape.
        weight_shapes(input_shape): ``{name: shape}`` of the params and buffers ``build`` makes, so a
            weights file is checked before anything is allocated. Default: none.
        build(input_shape): call ``super().build`` first, then create ``params`` (and ``buffers``),
            keeping arrays that already have the right shapes (loaded weights).
        get_config(): only when an argument is not stored under its own name or needs converting
            (a tuple written as a list).
        category: the family it is listed under ("Convolution", "Pooling", "Fully connected",
            "Regularisation", "Activation"); "Other" when it names none.
        activation_name: the name by which ``activation=`` fuses it into a layer with weights.
        in_place(y) and keep(out): an element-wise activation that can rewrite a piece of a fused layer's
            output where it lies (ReLU); None, the default, has the layer call ``forward`` on the whole.

    Register the class with ``@register``; that one line makes it known to
    model files, the editor's palette and form, and ``layer_types()``.

    Attributes:
        params: trainable arrays by name.
        grads: their gradients, under the same keys, filled by ``backward``.
        buffers: non-trainable state saved with the model (BatchNorm's running statistics).
        input_shape: set by ``build`` (no batch axis), as is ``output_shape``.
        index: 1-based position in its model, for messages; None outside one.
        need_input_grad: False for a layer before a model's first parameters; it may skip dx.
        trainable: False freezes the layer in ``fit`` (Keras's meaning); saved with the model.
    """

    category = "Other"
    activation_name = None
    in_place = None

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.scratch = Scratch()   # arrays reused from batch to batch (never an output)
        self.input_shape = None
        self.output_shape = None
        self.index = None
        self.need_input_grad = True
        self.trainable = True

    @property
    def trainable(self):
        """False freezes the layer: ``fit`` leaves its params bit for bit and keeps no optimizer slots for it.

        Raises:
            ArgumentError: set to anything but True or False.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ArgumentError(type(self).__name__, "trainable", f"must be True or False, got {value!r}")
        self._trainable = bool(value)

    @property
    def name(self):
        """The type and 1-based position in its model ("Conv2D #3"), as every message names a layer."""
        where = f" #{self.index}" if self.index is not None else ""
        return f"{type(self).__name__}{where}"

    def build(self, input_shape):
        """Create parameters for ``input_shape`` (no batch axis); return the output shape.

        Args:
            input_shape: one sample's shape, e.g. (1, 28, 28).

        Raises:
            ShapeError: the layer cannot take an input of that shape (the message names the layer).
        """
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        return self.output_shape

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (both without the batch axis); here unchanged.

        Args:
            input_shape: one sample's shape.

        Raises:
            ShapeError: an input the layer cannot take (from ``shape_error``).
        """
        return input_shape

    def weight_shapes(self, input_shape):
        """Shapes of the params and buffers ``build`` makes for ``input_shape``, by name.

        Known before anything is allocated, so a weights file can be checked
        against an architecture cheaply (see ``serialization``).

        Args:
            input_shape: one sample's shape, as ``build`` gets it.
        """
        return {}

    def forward(self, x, training=False):
        """The layer's output for a batch ``x``; ``training`` is True inside ``fit`` (Dropout, BatchNorm).

        Args:
            x: a float32 batch of ``input_shape``, batch axis first.
            training: True while training: Dropout drops, BatchNorm uses batch statistics.

        Returns:
            The batch's output, of ``output_shape`` after the batch axis.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no forward")

    def backward(self, grad):
        """The gradient with respect to the last ``forward``'s input; fills ``grads``.

        Args:
            grad: the gradient of the loss with respect to the last ``forward``'s output (same shape).

        Returns:
            The gradient with respect to that forward's input, or None when ``need_input_grad`` is False.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no backward")

    def get_config(self):
        """The constructor's arguments by name, read from the attributes of the same names.

        ``type(layer)(**layer.get_config())`` builds the same layer; model files store this.

        Raises:
            NotImplementedError: an argument is not stored under its own name; the subclass must
                then define ``get_config`` itself.
        """
        config = {}
        for name in inspect.signature(type(self)).parameters:
            if not hasattr(self, name):
                raise NotImplementedError(f"{type(self).__name__} keeps no attribute {name!r} for its argument "
                                          f"of that name: store it, or define get_config")
            config[name] = getattr(self, name)
        return config

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

        Checks every array before changing any.

        Args:
            weights: a list (or tuple) of arrays, one per name of ``weight_names``.

        Raises:
            ShapeError: not a list, a wrong count, shape or kind (naming the layer and the weight).
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
        """Number of trainable values (buffers excluded)."""
        return int(sum(p.size for p in self.params.values()))

    def shape_error(self, message):
        """A ``ShapeError`` that names this layer and its position, for ``compute_output_shape`` to raise.

        Args:
            message: what does not fit, without the layer's name (it is prefixed).
        """
        return ShapeError(f"{self.name}: {message}", layer_index=self.index)

    def _require_rank(self, input_shape, ranks, what):
        if len(input_shape) not in ranks:
            raise self.shape_error(
                f"expects {what}, got input of shape {fmt_shape(input_shape)}")


class ParamLayer(Layer):
    """A layer with weights, an initialiser and an optional fused activation (Dense and Conv2D).

    ``activation='relu'`` is the Keras shorthand for a ReLU layer right after
    this one; the activation runs inside forward/backward, so the model sees
    one layer.

    A subclass must define ``linear_forward(x)`` and ``linear_backward(grad)``
    (the layer without its activation) and put ``**self.base_config()`` in
    its ``get_config``.

    Args:
        activation: the name of an activation applied to the output, or None (or "linear") for none.
        init: the name of a weight initialiser (``core.initializers.NAMES``), or None to take the
            default of the activation the output meets.
        seed: seeds this layer's weights alone, or None to draw them from the model's seed.
    """

    def __init__(self, activation=None, init=None, seed=None):
        super().__init__()
        activation = args.choice(self, "activation", activation, ("linear", *activations()))
        self.activation = None if activation == "linear" else activation
        self.act = None if self.activation is None else activations()[self.activation]()
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

        Args:
            following: the layers after this one in its model.
            redraw: also drop weights already drawn with another default.
        """
        if self.init_chosen or self.activation:
            return
        init = initializers.default_for(activation_after(following))
        if init != self.init and (redraw or not self.params):
            self.init, self.params = init, {}

    def forward(self, x, training=False):
        act = self.act
        if act is not None and act.in_place is not None:   # a ReLU: on each piece of output while in cache
            return act.keep(self.linear_forward(x, then=act.in_place))
        y = self.linear_forward(x)
        return act.forward(y, training) if act else y

    def backward(self, grad):
        if self.act:
            grad = self.act.backward(grad)
        return self.linear_backward(grad)

    def linear_forward(self, x, then=None):
        """The output before the fused activation; keep what ``linear_backward`` needs.

        Args:
            x: a float32 batch of ``input_shape``.
            then: a function to apply in place to each piece of the output once its bias is added, on
                the thread that computed it: a fused ReLU's ``in_place``. None for the linear output.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no linear_forward")

    def linear_backward(self, grad):
        """The input gradient (None when ``need_input_grad`` is False); fills ``grads``.

        Args:
            grad: the gradient with respect to ``linear_forward``'s output.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no linear_backward")

    def base_config(self):
        """``init`` is None unless chosen: rebuilt from its config, the layer meets its activation again
        and takes the same default, and an editor showing the config does not freeze that default."""
        return {"activation": self.activation, "init": self.init if self.init_chosen else None}


def activation_after(layers):
    """Name of the first activation among ``layers`` (None if a layer with weights comes first).

    Pooling, Flatten, Dropout and BatchNorm in between are looked through: they
    keep the signs of what reaches the activation, or only rescale it.
    """
    by_class = {cls: name for name, cls in activations().items()}
    for layer in layers:
        if isinstance(layer, ParamLayer):
            return None
        if type(layer) in by_class:
            return by_class[type(layer)]
    return None


def fmt_shape(shape, sep=None):
    """A shape as every core message writes it: "(1, 28, 28)"; joined by ``sep`` where a size reads as
    one word ("kernel 5x5 is larger than its 3x3 input", "takes 1×28×28 images")."""
    dims = [str(d) for d in shape]
    return sep.join(dims) if sep else "(" + ", ".join(dims) + ")"
