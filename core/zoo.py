"""Named architectures the GUI and CLI offer. ``build`` returns an uncompiled model."""
import difflib

from .layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Softmax


def _mlp(classes):
    return [Flatten(), Dense(100, "relu"), Dense(100, "relu"), Dense(classes), Softmax()]


def _mlp_wide(classes):
    return [Flatten(), Dense(512, "relu"), Dense(1024, "relu"), Dense(classes), Softmax()]


def _cnn_small(classes):
    return [Conv2D(5, 3, activation="relu"), MaxPool2D(2), Flatten(),
            Dense(100, "relu"), Dense(classes), Softmax()]


def _lenet5(classes):
    """Caffe's LeNet: no activation after the convolutions, as in its prototxt."""
    return [Conv2D(20, 5), MaxPool2D(2), Conv2D(50, 5), MaxPool2D(2),
            Flatten(), Dense(500, "relu"), Dense(classes), Softmax()]


def _alexnet_mini(classes):
    return [Conv2D(32, 4, stride=2, activation="relu"),
            Conv2D(64, 3, stride=2, padding=1, activation="relu"),
            Conv2D(128, 3, stride=2, padding=1, activation="relu"),
            Flatten(), Dense(1024, "relu"), Dense(classes), Softmax()]


def vgg_layers(classes, block_dropout=0.25, dense_dropout=0.5):
    """vgg_mini's layers, its dropout rates as arguments (0 after the blocks: no Dropout layer there).

    The pretrained Fashion-MNIST model is vgg_mini with lighter dropout: trained on augmented images,
    vgg_mini's own rates left it underfitting (``scripts/train_pretrained.py``).

    Args:
        classes: the units of the last Dense layer.
        block_dropout: the Dropout rate after each block of convolutions (0: none there).
        dense_dropout: the Dropout rate before the last Dense layer.
    """
    def block(filters):
        return [Conv2D(filters, 3, padding="same"), BatchNorm(), ReLU(),
                Conv2D(filters, 3, padding="same"), BatchNorm(), ReLU(), MaxPool2D(2),
                *([Dropout(block_dropout)] if block_dropout else [])]
    return [*block(32), *block(64), Flatten(), Dense(256), BatchNorm(), ReLU(), Dropout(dense_dropout),
            Dense(classes), Softmax()]


_PRESETS = {
    "mlp": (_mlp, "784-100-100-10 perceptron, ReLU"),
    "mlp_wide": (_mlp_wide, "784-512-1024-10 perceptron, ReLU"),
    "cnn_small": (_cnn_small, "5 3x3 filters, 2x2 pool, FC100, FC10"),
    "lenet5": (_lenet5, "Caffe LeNet-5: C20@5x5, pool, C50@5x5, pool, FC500, FC10"),
    "alexnet_mini": (_alexnet_mini, "three strided convs (32, 64, 128), FC1024, FC10"),
    "vgg_mini": (vgg_layers, "two VGG blocks of 3x3 convs with BatchNorm and Dropout"),
}


def names():
    """The presets' names, in the order the app and ``numpynet train --model`` list them."""
    return list(_PRESETS)


def describe(name):
    """One line on preset ``name``'s architecture ("Caffe LeNet-5: C20@5x5, pool, ...").

    Args:
        name: a name from ``names()``.

    Raises:
        ValueError: an unknown name (with the nearest known one when it looks like a typo).
    """
    return _PRESETS[_check(name)][1]


def unknown(name):
    """The message for a name the zoo lacks: the nearest name when it looks like a typo, else the list.

    Args:
        name: the name asked for.
    """
    key = str(name).lower()
    close = [n for n in names() if n.startswith(key)] or difflib.get_close_matches(key, names(), n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}?" if close else f"the zoo has {', '.join(_PRESETS)}"
    return f"unknown model {name!r}; {hint}"


def _check(name):
    if name not in _PRESETS:
        raise ValueError(unknown(name))
    return name


def build(name, input_shape=(1, 28, 28), classes=10, seed=None):
    """A new, uncompiled ``Sequential`` of preset ``name``, built for ``input_shape``.

    Args:
        name: one of ``names()``: "mlp", "mlp_wide", "cnn_small", "lenet5", "alexnet_mini",
            "vgg_mini".
        input_shape: one image's (channels, height, width).
        classes: the units of the last Dense layer (it ends in Softmax).
        seed: seeds the initial weights, as ``Sequential(seed=)``.

    Raises:
        ValueError: an unknown name.
        ShapeError: an input too small for the preset's layers (naming the layer).

    Example:
        >>> from core import zoo
        >>> model = zoo.build("lenet5", seed=0)
        >>> model.count_params()
        431080
    """
    from .model import Sequential
    return Sequential(_PRESETS[_check(name)][0](classes), input_shape=input_shape, seed=seed)


def preset_of(model):
    """The name of the preset ``model`` is made of (at any input size), or None for an architecture of its own.

    Told by the layers themselves, not by where the model came from: a preset
    changed in the editor is no longer that preset, and a saved one still is.

    Args:
        model: a ``Sequential``; its layers' types and configs are compared with each preset's.

    Example:
        >>> from core import zoo
        >>> zoo.preset_of(zoo.build("mlp", input_shape=(1, 8, 8), classes=3))
        'mlp'
    """
    classes = model.output_shape[-1]
    layers = _configs(model.layers)
    return next((name for name, (make, _) in _PRESETS.items() if _configs(make(classes)) == layers), None)


def _configs(layers):
    return [(type(layer).__name__, layer.get_config()) for layer in layers]
