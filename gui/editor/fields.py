"""What the editor adds to a layer class: its form's widgets and ranges, and the palette's order of groups.

A layer class says the rest about itself: its fields are the keys of the
config it writes (``get_config``), its description is its docstring's summary
line, each field's tooltip is the help its docstring's ``Args:`` section gives,
and its palette group is its ``category``. So a layer type the core registers
appears in the palette with a usable, documented form. This module adds only
what a class cannot say about itself: the widget, the valid range, a label and
hints about the widget. Qt-free: ``kind`` names a widget, the form picks it.
"""
import inspect
from dataclasses import dataclass

from core import docstrings, initializers
from core.layers import layer_class, layer_types
from core.layers.base import activations

from ..format import shape_text


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str            # 'int', 'pair', 'float', 'sci', 'choice', 'padding' or 'text'
    label: str
    tooltip: str
    minimum: float = 0
    maximum: float = 0
    step: float = 1
    decimals: int = 0
    choices: tuple = ()  # (label, value) pairs of a 'choice'


# Values for constructor arguments that have no default, used when a layer comes from the palette.
NEW_LAYER_ARGS = {"filters": 8, "kernel_size": 3, "units": 64}

ACTIVATION_CHOICES = (("none (linear)", None),) + tuple((name, name) for name in activations())
INIT_CHOICES = (("automatic (follows the activation)", None),) + tuple((name, name) for name in initializers.NAMES)

# Widgets and ranges by argument name; ``note`` is a hint about the widget, added to the class's own help.
_SPECS = {
    "filters": dict(kind="int", label="Filters", minimum=1, maximum=1024),
    "units": dict(kind="int", label="Units", minimum=1, maximum=16384),
    "kernel_size": dict(kind="pair", label="Kernel", minimum=1, maximum=31,
                        note="Click = to edit the two sides separately."),
    "stride": dict(kind="pair", label="Stride", minimum=1, maximum=16),
    "padding": dict(kind="padding", label="Padding"),
    "activation": dict(kind="choice", label="Activation", choices=ACTIVATION_CHOICES,
                       note="Leave the last layer linear and end with Softmax."),
    "init": dict(kind="choice", label="Initialiser", choices=INIT_CHOICES),
    "rate": dict(kind="float", label="Drop rate", minimum=0.0, maximum=0.95, step=0.05, decimals=2),
    "momentum": dict(kind="float", label="Momentum", minimum=0.0, maximum=0.999, step=0.01, decimals=3),
    "epsilon": dict(kind="sci", label="Epsilon", minimum=1e-10, maximum=0.1),
    "alpha": dict(kind="float", label="Slope α", minimum=0.0, maximum=0.99, step=0.01, decimals=3),
}
_POOL_SPECS = {
    "pool_size": dict(kind="pair", label="Window", minimum=1, maximum=16),
    "stride": dict(kind="pair", label="Stride", minimum=1, maximum=16,
                   note="It follows the window size until you change it."),
    "padding": dict(kind="int", label="Padding", minimum=0, maximum=8),
}

# The palette's order of layer categories (``Layer.category``); a category not named here comes after them.
GROUP_ORDER = ("Convolution", "Pooling", "Fully connected", "Regularisation", "Activation")


def palette_groups():
    """(group, types) for every registered layer type, grouped by its class's ``category``."""
    by_group = {}
    for type_name in layer_types():
        by_group.setdefault(layer_class(type_name).category, []).append(type_name)
    order = [g for g in GROUP_ORDER if g in by_group] + [g for g in by_group if g not in GROUP_ORDER]
    return [(g, tuple(by_group[g])) for g in order]


def group_of(type_name):
    return next((g for g, types in palette_groups() if type_name in types), "Other")


def description(type_name):
    """The summary line of the class's own docstring (never its base class's), else the type name."""
    return docstrings.summary(layer_class(type_name)) or type_name


def default_config(type_name):
    """The config a layer added from the palette starts with, as its class writes it."""
    cls = layer_class(type_name)
    required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return cls(**{p.name: NEW_LAYER_ARGS.get(p.name, 1) for p in required}).get_config()


def fields_for(type_name):
    """The form's fields for a layer type, in the order its config lists them."""
    return [spec_for(type_name, name, value) for name, value in default_config(type_name).items()]


def spec_for(type_name, name, default):
    """The field of argument ``name``: its widget and range from here, its tooltip from the class's ``Args:``."""
    cls = layer_class(type_name)
    table = _POOL_SPECS if cls.category == "Pooling" and name in _POOL_SPECS else _SPECS
    spec = dict(table.get(name) or _generic_spec(name, default))
    note = spec.pop("note", "")
    spec["tooltip"] = " ".join(filter(None, (_plain(docstrings.arg_help(cls).get(name, "")), note))) or name
    return FieldSpec(name=name, **spec)


def _plain(help_text):
    """An ``Args:`` entry as a tooltip sentence: capitalised, without the reStructuredText ``quotes``."""
    text = help_text.replace("``", "")
    return text[:1].upper() + text[1:]


def _generic_spec(name, default):
    """A usable widget for an argument this module has no entry for (a layer type added later)."""
    label = name.replace("_", " ").capitalize()
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return dict(kind="text", label=label, note="Free text, as the layer's config stores it.")
    if isinstance(default, int):
        return dict(kind="int", label=label, minimum=0, maximum=100000)
    return dict(kind="float", label=label, minimum=-1e6, maximum=1e6, step=0.01, decimals=4)


def follow_ups(config, name, value):
    """Fields that change along with ``name``: a pool's stride that equals its window follows it."""
    extra = {}
    if name == "pool_size" and config.get("stride") == config.get("pool_size"):
        extra["stride"] = value
    return extra


def summary(type_name, config):
    """A few words for the layer list: '20 @ 5×5, relu', '2×2', '500, relu'."""
    parts = []
    if "filters" in config:
        parts.append(f"{config['filters']} @ {_pair(config.get('kernel_size'))}")
    elif "pool_size" in config:
        parts.append(_pair(config["pool_size"]))
    elif "units" in config:
        parts.append(str(config["units"]))
    if "stride" in config and config["stride"] != config.get("pool_size", [1, 1]):
        parts.append(f"stride {_pair(config['stride'], compact=True)}")
    padding = config.get("padding")
    if padding not in (None, "valid", 0):
        parts.append(f"pad {padding}")
    if config.get("activation"):
        parts.append(config["activation"])
    for key, label in (("rate", "rate"), ("alpha", "α")):
        if key in config:
            parts.append(f"{label} {config[key]:g}")
    if "momentum" in config and config["momentum"] != default_config(type_name).get("momentum"):
        parts.append(f"momentum {config['momentum']:g}")
    return ", ".join(parts)


def _pair(value, compact=False):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        if compact and value[0] == value[1]:
            return str(value[0])
        return shape_text(value, compact=True)
    return str(value)
