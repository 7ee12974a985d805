"""A model meets another dataset: whether the two belong together, and a new output layer when not.

Shapes alone do not catch a model trained on MNIST reading Fashion-MNIST: both
are 1x28x28 images in 10 classes, and it answers "7" for a sandal. So a model
is compared with a dataset on what it says it is: its input shape, its number
of outputs, and the class names it was trained with (``model.meta``). The
window asks before evaluating or training on a mismatch; the command line
refuses with the same sentence.
"""
from dataclasses import dataclass

import numpy as np

from .errors import MismatchError, ShapeError
from .layers import Dense
from .layers.base import fmt_shape
from .model import Sequential

NAMES_SHOWN = 4


@dataclass(frozen=True)
class Mismatch:
    """What disagrees between a model and a dataset; false when they fit.

    ``model_names`` is empty when the model records no class names (an
    untrained preset): such a model takes the dataset's names.
    """
    dataset: str
    model_dataset: str
    model_input: tuple
    data_input: tuple
    model_classes: int
    data_classes: int
    model_names: tuple
    data_names: tuple

    @property
    def input(self):
        return self.model_input != self.data_input

    @property
    def classes(self):
        return self.model_classes != self.data_classes

    @property
    def names(self):
        return bool(self.model_names) and not self.classes and self.model_names != self.data_names

    @property
    def only_names(self):
        """Same shapes, other class names: going on is a choice (fine-tuning), not an error."""
        return self.names and not self.input

    def __bool__(self):
        return self.input or self.classes or self.names

    def describe(self):
        """One or two sentences naming what differs, for a dialog or a terminal."""
        trained = f" (trained on {self.model_dataset})" if self.model_dataset else ""
        parts = []
        if self.input:
            parts.append(f"The model{trained} takes {_shape(self.model_input)} images; "
                         f"those of {self.dataset} are {_shape(self.data_input)}.")
        if self.classes:
            parts.append(f"The model{trained if not parts else ''} has {self.model_classes} outputs; "
                         f"{self.dataset} has {self.data_classes} classes.")
        if self.names:
            parts.append(f"The model{trained if not parts else ''} answers with the classes "
                         f"{_names(self.model_names)}; the classes of {self.dataset} are {_names(self.data_names)}, "
                         f"so its answers would name the wrong things.")
        return " ".join(parts)


def check(model, dataset):
    """The ``Mismatch`` between ``model`` and ``dataset`` (a ``core.datasets.Dataset``)."""
    names = tuple(str(n) for n in model.meta.get("class_names") or ())
    return Mismatch(dataset=dataset.name, model_dataset=str(model.meta.get("dataset") or ""),
                    model_input=tuple(model.input_shape or ()), data_input=dataset.input_shape,
                    model_classes=int(np.prod(model.output_shape)), data_classes=dataset.num_classes,
                    model_names=names, data_names=tuple(str(n) for n in dataset.class_names))


def require_match(model, dataset, names_may_differ=False, advice=""):
    """Raise ``MismatchError`` (what differs, then ``advice``) unless ``model`` fits ``dataset``.

    ``names_may_differ``: the caller knows they are the same classes under other names.
    """
    found = check(model, dataset)
    if found and not (names_may_differ and found.only_names):
        raise MismatchError(f"{found.describe()} {advice}".strip())


def new_output_layer(model, classes, class_names=None, seed=None):
    """A copy of ``model`` whose last Dense has ``classes`` fresh outputs; earlier layers keep their weights.

    For teaching a trained network other classes (transfer learning): the
    features it learned stay, the head that named the old classes goes.
    Layers after that Dense (its Softmax) are kept; any with parameters start
    fresh, since their shapes follow the new head. The copy is uncompiled and
    has no training history or metrics: they belonged to the old classes.
    """
    if int(classes) < 1:
        raise ValueError(f"new_output_layer: classes must be at least 1, got {classes}")
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(classes)]
    if len(names) != int(classes):
        raise ValueError(f"new_output_layer: {len(names)} class names for {classes} classes")
    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    if not dense:
        raise ShapeError("new_output_layer: the model has no Dense layer to replace")
    head = dense[-1]
    config = model.get_config()
    config["layers"][head]["config"]["units"] = int(classes)
    twin = Sequential.from_config(config, seed=seed)
    kept = {k: v for k, v in model.get_weights().items() if int(k.split(".")[0]) < head}
    twin.set_weights({**twin.get_weights(), **kept})
    twin.meta = {k: v for k, v in model.meta.items() if k not in ("metrics", "dataset", "class_names", "temperature")}
    twin.meta["class_names"] = names
    return twin


def _shape(shape):
    return fmt_shape(shape, "×") or "no"


def _names(names):
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (", …" if len(names) > NAMES_SHOWN else "")
