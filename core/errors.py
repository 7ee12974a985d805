"""Exception classes of numpynet: one family, so callers can catch them all.

Every message names the thing that is wrong (a file, a layer, a value) and,
where it helps, what to do about it.
"""


class NumpynetError(Exception):
    """Base of every error numpynet raises on purpose."""


class ShapeError(NumpynetError, ValueError):
    """An architecture or an input whose shapes do not fit.

    Args:
        message: what does not fit, naming the layer ("Conv2D #3: kernel 5x5 is larger than ...").
        layer_index: the 1-based position of the offending layer in the model, None for an input
            that does not match the model. Kept as an attribute of the same name.
    """

    def __init__(self, message, layer_index=None):
        super().__init__(message)
        self.layer_index = layer_index


class ArgumentError(NumpynetError, ValueError):
    """A layer constructor argument that is out of range or of the wrong kind.

    ``layer`` (the class name), ``argument`` and ``reason`` are kept apart so
    a caller that already names the layer (the editor, a model.json check)
    can say the rest without repeating it. Each is kept as an attribute.

    Args:
        layer: the layer's class name.
        argument: the argument's name.
        reason: what was expected and what was received ("must be an int of at least 1, got 0").
    """

    def __init__(self, layer, argument, reason):
        super().__init__(f"{layer}: {argument} {reason}")
        self.layer, self.argument, self.reason = layer, argument, reason


class ModelFileError(NumpynetError):
    """A saved model that cannot be read: missing, corrupt, foreign or too new."""


class DatasetError(NumpynetError):
    """A dataset that cannot be found, downloaded or read."""


class TrainingError(NumpynetError):
    """Training cannot start or go on (e.g. the model is not compiled)."""


class ImageFileError(DatasetError):
    """An image file that is missing, cannot be decoded, or holds pixels outside its format's range.

    ``path`` and ``reason`` are kept apart so a caller listing many files can say each reason once.

    Args:
        path: the file, kept as ``path``.
        reason: what is wrong with it, kept as ``reason``.
    """

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class MismatchError(NumpynetError, ValueError):
    """A model and a dataset that do not belong together: input shape, classes or class names differ."""


class MissingPackageError(NumpynetError, ImportError):
    """An optional package a feature needs is not installed (e.g. ``onnx`` for ONNX export and import)."""


class RunError(NumpynetError):
    """A recorded run that cannot be found or read: an unknown id, or a damaged run.json."""
