"""The architecture being edited: an input shape and a list of layer configs. Qt-free.

Each layer carries a ``uid`` that survives reordering and undo, so weights
follow their layer rather than its position. Shapes are inferred by the core
itself (``Sequential.build``), so the editor can never disagree with what
training will see; the model that inference builds is the model the editor
hands to the app.
"""
import copy
import dataclasses
import math
from dataclasses import dataclass, field

from core import Sequential
from core.errors import ArgumentError, ShapeError
from core.layers import from_config, layer_class, to_entry
from core.layers.base import make_entry

from ..format import shape_text
from .fields import default_config, follow_ups

BYTES_PER_FLOAT = 4  # float32 end to end


@dataclass
class LayerItem:
    uid: int
    type: str
    config: dict
    trainable: bool = True   # False: frozen, fit leaves its weights alone

    def entry(self):
        """The layer's entry in ``Sequential.get_config()``'s schema."""
        return make_entry(self.type, copy.deepcopy(self.config), self.trainable)

    def copy(self):
        return dataclasses.replace(self, config=copy.deepcopy(self.config))


@dataclass
class Row:
    """One layer as inference saw it; ``output_shape`` and ``params`` are None when unknown ('?')."""
    output_shape: tuple = None
    params: int = None
    error: str = None


@dataclass
class Expectation:
    """What the loaded dataset asks of the network: its input shape and number of classes."""
    input_shape: tuple
    classes: int
    name: str = "the dataset"

    @classmethod
    def of(cls, dataset):
        if dataset is None:
            return None
        return cls(tuple(int(d) for d in dataset.x_train.shape[1:]), len(dataset.class_names),
                   getattr(dataset, "name", None) or "the dataset")


@dataclass
class Analysis:
    """Shapes, parameter counts and the first problem of an architecture.

    ``problem_row`` is the 0-based layer the problem belongs to (-1: the input,
    None: the network as a whole). ``model`` is the built network when there
    is no problem.
    """
    input_shape: tuple
    rows: list
    problem: str = None
    problem_row: int = None
    model: Sequential = field(default=None, repr=False)

    @property
    def valid(self):
        return self.problem is None

    @property
    def complete(self):
        return all(r.params is not None for r in self.rows)

    @property
    def total_params(self):
        return sum(r.params for r in self.rows if r.params is not None)

    def batch_memory(self, batch_size):
        """Bytes one training batch needs, float32, or None while a shape is unknown.

        Counts the input and every layer's output (kept for backward) and a
        gradient of the same size for each, times the batch; plus the weights
        and their gradients. Leaves out im2col buffers and optimizer state.
        """
        if not self.complete:
            return None
        values = math.prod(self.input_shape) + sum(math.prod(r.output_shape) for r in self.rows)
        return BYTES_PER_FLOAT * 2 * (batch_size * values + self.total_params)


class Document:
    def __init__(self, input_shape=(1, 28, 28), layers=()):
        self.input_shape = tuple(int(d) for d in input_shape)
        self.items = []
        self._next_uid = 1
        for entry in layers:
            self._append(entry)

    @classmethod
    def from_config(cls, config):
        return cls(config.get("input_shape") or (1, 28, 28), config.get("layers", []))

    def config(self):
        """The architecture in ``Sequential.get_config()``'s schema (model.json's 'architecture')."""
        return {"input_shape": list(self.input_shape),
                "layers": [it.entry() for it in self.items]}

    @property
    def uids(self):
        return [it.uid for it in self.items]

    # ----- snapshots, for undo ----------------------------------------------
    def snapshot(self):
        return self.input_shape, tuple(it.copy() for it in self.items)

    def copy(self):
        twin = Document(self.input_shape)
        twin.restore(self.snapshot())
        return twin

    def restore(self, snapshot):
        self.input_shape, items = snapshot
        self.items = [it.copy() for it in items]
        self._next_uid = max([self._next_uid] + [it.uid + 1 for it in self.items])

    # ----- edits --------------------------------------------------------------
    def index_of(self, uid):
        return next(i for i, it in enumerate(self.items) if it.uid == uid)

    def item(self, uid):
        return self.items[self.index_of(uid)]

    def insert(self, index, type_name, config=None, trainable=True):
        """Insert a layer at ``index``; returns its uid."""
        layer_class(type_name)  # unknown types are refused here, naming the known ones
        config = default_config(type_name) if config is None else config
        item = LayerItem(self._next_uid, type_name, canonical(type_name, config), bool(trainable))
        self._next_uid += 1
        self.items.insert(index, item)
        return item.uid

    def remove(self, uid):
        del self.items[self.index_of(uid)]

    def duplicate(self, uid):
        """A copy of the layer right below it (new uid: it gets its own weights); returns the uid."""
        i = self.index_of(uid)
        return self.insert(i + 1, self.items[i].type, copy.deepcopy(self.items[i].config), self.items[i].trainable)

    def move(self, uid, index):
        item = self.items.pop(self.index_of(uid))
        self.items.insert(max(0, min(index, len(self.items))), item)

    def set_field(self, uid, name, value):
        item = self.item(uid)
        updates = {name: value, **follow_ups(item.config, name, value)}
        item.config = canonical(item.type, {**item.config, **updates})

    def set_trainable(self, uid, trainable):
        self.item(uid).trainable = bool(trainable)

    def set_input_shape(self, shape):
        self.input_shape = tuple(int(d) for d in shape)

    def replace(self, config):
        """Take every layer (new uids) and the input shape of an architecture config."""
        self.items = []
        if config.get("input_shape"):
            self.set_input_shape(config["input_shape"])
        for entry in config.get("layers", []):
            self._append(entry)

    def _append(self, entry):
        self.insert(len(self.items), entry["type"], entry.get("config", {}), entry.get("trainable", True))

    def follow(self, expect):
        """Adapt to a dataset: its input shape, and its class count on the last Dense layer.

        Returns True when something changed.
        """
        before = self.snapshot()
        self.set_input_shape(expect.input_shape)
        dense = [it for it in self.items if "units" in it.config]
        if dense and dense[-1].config["units"] != expect.classes:
            self.set_field(dense[-1].uid, "units", expect.classes)
        return self.snapshot() != before

    # ----- inference ------------------------------------------------------------
    def analyse(self, expect=None):
        """Build the network with the core; report shapes, counts and the first problem."""
        layers, refused = [], None
        for i, it in enumerate(self.items):
            try:
                layers.append(from_config(it.entry()))
            except ArgumentError as e:
                refused = i, f"{it.type} #{i + 1}: {e.argument} {e.reason}"
                break
            except (ValueError, TypeError) as e:
                refused = i, f"{it.type} #{i + 1}: {e}"
                break
        model = Sequential(layers)
        try:
            model.build(self.input_shape)
        except ShapeError as e:
            where = -1 if e.layer_index is None else e.layer_index - 1
            return _stopped(self.input_shape, layers, len(self.items), where, str(e))
        if refused:
            return _stopped(self.input_shape, layers, len(self.items), *refused)
        rows = [Row(layer.output_shape, layer.count_params()) for layer in layers]
        problem, where = _training_problem(self.input_shape, rows, expect)
        return Analysis(self.input_shape, rows, problem, where, None if problem else model)


def _stopped(input_shape, layers, count, where, message):
    """Rows up to the failing layer ``where`` (0-based; -1 the input); '?' after it."""
    rows = [Row(layer.output_shape, layer.count_params()) for layer in layers[:max(where, 0)]]
    if where >= 0:
        rows.append(Row(error=message))
    rows += [Row() for _ in range(count - len(rows))]
    return Analysis(tuple(input_shape), rows, message, where)


def _training_problem(input_shape, rows, expect):
    """Why a network whose shapes fit still cannot be trained (on the loaded dataset), or (None, None)."""
    if not rows:
        return "The network has no layers: add some from the palette or pick a preset.", None
    out = rows[-1].output_shape
    last = len(rows) - 1
    if len(out) != 1:
        return (f"The network ends with a {shape_text(out)} map; a classifier must end with one score per class: "
                f"add Flatten and Dense.", last)
    if expect is None:
        return None, None
    if tuple(input_shape) != tuple(expect.input_shape):
        return (f"The network takes {shape_text(input_shape)} inputs "
                f"but {expect.name} has {shape_text(expect.input_shape)} "
                f"images: set the input shape to {shape_text(expect.input_shape)}.", -1)
    if out[0] != expect.classes:
        return (f"The network gives {out[0]} scores but {expect.name} has {expect.classes} classes: "
                f"set the last Dense layer's units to {expect.classes}.", last)
    return None, None


def canonical(type_name, config):
    """The config as the core's layer writes it back ('kernel_size': 5 -> [5, 5]).

    A config the layer refuses is kept as it is; ``analyse`` then reports why.
    """
    try:
        return to_entry(from_config({"type": type_name, "config": config}))["config"]
    except (ValueError, TypeError):
        return dict(config)


# ----- weights that follow their layer -------------------------------------------
def signature(layer):
    """A layer's type and the shapes of its parameters and buffers: equal signatures, copyable weights."""
    arrays = {**layer.params, **layer.buffers}
    return type(layer).__name__, tuple(sorted((k, v.shape) for k, v in arrays.items()))


class WeightBank:
    """The weights each layer (by uid) last had for each parameter shape.

    ``restore`` gives a freshly built model the weights of every layer whose
    shapes did not change; an undo gets back the weights a layer had before.
    Holds references: a recorded model that trains on keeps the bank current.
    """

    def __init__(self):
        self._weights = {}

    def clear(self):
        self._weights.clear()

    def record(self, uids, model):
        for uid, layer in zip(uids, model.layers):
            if layer.params or layer.buffers:
                self._weights[uid, signature(layer)] = {**layer.params, **layer.buffers}

    def restore(self, uids, model):
        """Copy known weights into ``model``; returns the 0-based indices of the layers that got them."""
        kept = []
        for i, (uid, layer) in enumerate(zip(uids, model.layers)):
            saved = self._weights.get((uid, signature(layer)))
            if saved is None:
                continue
            for name in layer.params:
                layer.params[name] = saved[name].copy()
            for name in layer.buffers:
                layer.buffers[name] = saved[name].copy()
            kept.append(i)
        return kept
