"""The fields of model.json: made JSON-safe for saving, and every one checked for loading.

``save_model`` runs the same ``check`` before it writes, so it never writes a
file that ``load_model`` would refuse. A refusal is a ``ModelFileError`` that
names the field (``architecture.layers[2].config.units``, ``class_names``)
and what it holds. ``check`` computes every shape from sizes alone, so a
file claiming a 2,000,000-unit layer is refused before anything is allocated.
"""
import functools
import inspect
import math
from typing import NamedTuple

import numpy as np

from . import losses, optimizers, schedules
from .errors import ArgumentError, ModelFileError, ShapeError
from .layers import layer_class
from .layers.args import is_number

FORMAT = "numpynet-model"
FORMAT_VERSION = 1
RESERVED = ("format", "format_version", "architecture", "optimizer", "loss", "history", "weights", "schedule")
# Metadata that numpynet itself reads back (the CLI, the app): a wrong type there would crash them later.
_TEXT_META = ("dataset", "created", "command", "name")


class Checked(NamedTuple):
    """What a valid model.json describes, with its layers constructed but not built."""
    layers: list
    input_shape: tuple
    weight_shapes: dict     # 'position.name' -> shape the weights file must hold
    output_shape: tuple
    optimizer: object
    loss: object
    schedule: object        # the learning-rate schedule of the run that saved it (None: none)


def to_json(value, where=""):
    """``value`` as plain JSON types (numpy scalars and arrays become numbers and lists).

    Refuses, naming ``where``, what JSON cannot hold faithfully: NaN,
    infinity, non-string keys, sets and other objects.
    """
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ModelFileError(f"field {where!r} is {value}, which JSON cannot hold")
    if isinstance(value, (list, tuple)):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ModelFileError(f"field {where!r} has the key {key!r}; JSON keys are strings")
        return {k: to_json(v, f"{where}.{k}" if where else k) for k, v in value.items()}
    raise ModelFileError(f"field {where!r} is a {type(value).__name__}, which JSON cannot hold")


def check(doc):
    """The model fields of a parsed model.json -> ``Checked``; the first bad one is a ModelFileError.

    ``check_meta`` checks the rest, once the weights are known to fit.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"not a numpynet model (no 'format': '{FORMAT}')")
    to_json(doc)   # JSON as Python reads it allows NaN and Infinity; a model never holds them
    _check_version(doc.get("format_version"))
    layers, input_shape = make_layers(doc.get("architecture"))
    if not layers:
        raise ModelFileError("'architecture.layers' is empty: a model has at least one layer")
    weight_shapes, output_shape = expected_weights(layers, input_shape)
    optimizer = _optimizer(doc.get("optimizer"))
    loss = _loss(doc.get("loss"))
    return Checked(layers, input_shape, weight_shapes, output_shape, optimizer, loss, _schedule(doc.get("schedule")))


def _check_version(version):
    if type(version) is not int or version < 1:
        raise ModelFileError(f"'format_version' must be a positive integer, got {_short(version)}")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"format version {version} is newer than this numpynet reads "
                             f"({FORMAT_VERSION}); update numpynet-studio")


def make_layers(arch):
    """(layers, input_shape) from ``{"input_shape": [positive ints], "layers": [entries]}``."""
    if not isinstance(arch, dict) or not isinstance(arch.get("layers"), list):
        raise ModelFileError("'architecture' is not an architecture "
                             "(expected {\"input_shape\": [...], \"layers\": [...]})")
    shape = arch.get("input_shape")
    if not (isinstance(shape, list) and shape and all(type(d) is int and d > 0 for d in shape)):
        raise ModelFileError(f"input_shape must be a list of positive sizes like [1, 28, 28], got {_short(shape)}")
    return [make_layer(entry, i) for i, entry in enumerate(arch["layers"])], tuple(shape)


def make_layer(entry, i):
    """Layer ``i`` (from 0) from its ``{"type": name, "config": {...}}`` entry, constructed, not built."""
    where = f"layer {i + 1}"
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where}: expected {{'type': ..., 'config': {{...}}}}, got {_short(entry)}")
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise ModelFileError(f"{where}: 'type' must be a layer name (a string), got {_short(kind)}")
    try:
        cls = layer_class(kind)
    except ValueError as e:
        raise ModelFileError(f"{where}: {e} (a layer of your own loads once its class is decorated with "
                             f"@core.layers.register)") from None
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"{where} ({kind}): 'config' must be a mapping of its arguments, got {_short(config)}")
    trainable = entry.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ModelFileError(f"{where} ({kind}): field 'trainable' must be true or false, got {_short(trainable)}")
    layer = construct(cls, config, f"{where} ({kind})")
    layer.trainable = trainable
    return layer


def construct(cls, config, where):
    """``cls(**config)``, refusing what the constructor would take silently or report vaguely.

    Each field is named: unknown or missing ones, a null where a value is
    needed, a number or flag of the wrong type, and a value the constructor
    would convert (units 500.7 or "500" read as 500, ``true`` read as 1). Its
    own ValueError or TypeError is wrapped with ``where`` (and the fields,
    when its message names none).
    """
    _check_fields(_parameters(cls), config, where)
    try:
        obj = cls(**config)
    except ArgumentError as e:
        raise ModelFileError(f"{where}: field {e.argument!r} {e.reason}") from None
    except (ValueError, TypeError, ArithmeticError) as e:
        named = any(name in str(e) for name in config)
        raise ModelFileError(f"{where}: {e}" + ("" if named else f" (its fields: {_short(config)})")) from None
    kept = obj.get_config()
    for name, value in config.items():
        if name in kept and not _same(value, kept[name]):
            raise ModelFileError(f"{where}: field {name!r} must be {_kind(kept[name])}, got {_short(value)}")
    return obj


def _check_fields(params, config, where):
    for name in config:
        if name not in params:
            raise ModelFileError(f"{where}: unknown field {name!r} (it takes {', '.join(params)})")
    for name, p in params.items():
        value = config.get(name, p.default)
        if value is p.empty:
            raise ModelFileError(f"{where}: field {name!r} is missing")
        if value is None and p.default is not None:
            raise ModelFileError(f"{where}: field {name!r} must not be null")
        if _wrong_kind(value, p.default):
            raise ModelFileError(f"{where}: field {name!r} must be {_kind(p.default)}, got {_short(value)}")


def _wrong_kind(value, default):
    """A flag that is not true or false, or a rate that is not a number: the default tells which it is."""
    if isinstance(default, bool):
        return not isinstance(value, bool)
    return isinstance(default, float) and not is_number(value)


@functools.cache
def _parameters(cls):
    return {n: p for n, p in inspect.signature(cls).parameters.items() if p.kind is not p.VAR_KEYWORD}


def _same(given, kept):
    """Whether the constructor kept ``given`` as it was, not converted (strings it checks itself)."""
    if given is None or kept is None or isinstance(kept, str):
        return True
    if isinstance(kept, bool):
        return given is kept
    if isinstance(kept, list):
        items = given if isinstance(given, list) else [given] * len(kept)   # 3 is short for [3, 3]
        return len(items) == len(kept) and all(_same(g, k) for g, k in zip(items, kept))
    if isinstance(given, bool) or not isinstance(given, (int, float)):
        return False
    return given == kept and (isinstance(given, int) or not isinstance(kept, int))


def _kind(kept):
    if isinstance(kept, bool):
        return "true or false"
    if isinstance(kept, list):
        return f"{_kind(kept[0])} or a list of them" if kept else "a list"
    return "an integer" if isinstance(kept, int) else "a number"


def expected_weights(layers, input_shape):
    """({'position.name': shape} the weights file must hold, output shape), from shape arithmetic only."""
    shapes = {}
    shape = input_shape
    for i, layer in enumerate(layers):
        layer.index = i + 1
        try:
            out = layer.compute_output_shape(shape)
        except ShapeError as e:
            raise ModelFileError(f"architecture: {e}") from None
        shapes.update({f"{i}.{name}": s for name, s in layer.weight_shapes(shape).items()})
        shape = out
    return shapes, shape


def _optimizer(config):
    if config is None:
        return None
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ModelFileError(f"'optimizer' must be null or a mapping like {{\"type\": \"Adam\", \"lr\": 0.001}}, "
                             f"got {_short(config)}")
    cls = optimizers.OPTIMIZERS.get(config["type"].lower())
    if cls is None:
        raise ModelFileError(f"'optimizer': unknown optimizer {config['type']!r}; "
                             f"choose one of {', '.join(optimizers.OPTIMIZERS)}")
    return construct(cls, {k: v for k, v in config.items() if k != "type"}, "'optimizer'")


def _schedule(config):
    if config is None:
        return None
    if not isinstance(config, dict) or config.get("type") not in schedules.CLASSES:
        raise ModelFileError(f"'schedule' must be null or a mapping like {{\"type\": \"StepDecay\", \"gamma\": 0.5}} "
                             f"naming {', '.join(schedules.CLASSES)}; got {_short(config)} (unknown schedule)")
    return construct(schedules.CLASSES[config["type"]], {k: v for k, v in config.items() if k != "type"},
                     "'schedule'")


def _loss(config):
    if config is None:
        return None
    if not isinstance(config, dict) or not isinstance(config.get("type"), str) or config["type"] not in losses.LOSSES:
        raise ModelFileError(f"'loss' must be null or a mapping like {{\"type\": \"CrossEntropy\"}} naming a "
                             f"registered loss ({', '.join(sorted(set(losses.LOSSES)))}), got {_short(config)}; a "
                             f"loss of your own loads once its class is decorated with @core.losses.register_loss")
    return construct(losses.LOSSES[config["type"]], {k: v for k, v in config.items() if k != "type"}, "'loss'")


def check_meta(doc, output_shape):
    """The history and the metadata numpynet reads back, against the model's ``output_shape``."""
    _check_history(doc.get("history"))
    _check_text_and_metrics(doc)
    _check_class_names(doc.get("class_names"), output_shape)
    _check_temperature(doc.get("temperature"))


def _check_history(history):
    if history is None:
        return
    if not isinstance(history, dict):
        raise ModelFileError(f"'history' must be a mapping of metric names to lists of numbers, got {_short(history)}")
    for name, values in history.items():
        if not (isinstance(values, list) and all(is_number(v) for v in values)):
            raise ModelFileError(f"'history.{name}' must be a list of numbers, got {_short(values)}")


def _check_text_and_metrics(doc):
    for key in _TEXT_META:
        if doc.get(key) is not None and not isinstance(doc[key], str):
            raise ModelFileError(f"{key!r} must be a string, got {_short(doc[key])}")
    metrics = doc.get("metrics")
    if metrics is not None and not (isinstance(metrics, dict) and all(map(is_number, metrics.values()))):
        raise ModelFileError(f"'metrics' must be a mapping of names to numbers, got {_short(metrics)}")


def _check_class_names(names, output_shape):
    if names is None:
        return
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ModelFileError(f"'class_names' must be a list of strings, got {_short(names)}")
    if len(names) != output_shape[-1]:
        raise ModelFileError(f"'class_names' has {len(names)} names but the model has {output_shape[-1]} outputs")


def _check_temperature(t):
    """``predict`` divides by it: a positive finite number or absent."""
    if t is not None and not (is_number(t) and math.isfinite(t) and t > 0):
        raise ModelFileError(f"'temperature' must be a number above 0, got {_short(t)}")


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
