"""What the editor knows about each layer type: its form fields, palette group and one-line summary.

The fields of a type are the keys of the config its core class writes
(``get_config``), so a layer type the core adds appears in the palette with a
usable form. This module adds only what a class cannot say about itself: the
widget, the valid range and a tooltip. Qt-free: ``kind`` names a widget, the
form picks it.
"""
import inspect
from dataclasses import dataclass

from core import initializers
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

_STRIDE_TIP = ("Step between windows (rows × columns). Stride s divides the output size by about s; "
               "1 visits every position.")
_SPECS = {
    "filters": dict(kind="int", label="Filters", minimum=1, maximum=1024,
                    tooltip="Number of kernels = output channels. Each kernel has kh × kw × input-channels "
                            "weights and one bias."),
    "units": dict(kind="int", label="Units", minimum=1, maximum=16384,
                  tooltip="Number of outputs (neurons), each connected to every input. "
                          "The last Dense layer needs one unit per class."),
    "kernel_size": dict(kind="pair", label="Kernel", minimum=1, maximum=31,
                        tooltip="Height × width of each kernel. A k × k kernel without padding shrinks the "
                                "map by k − 1. Click = to edit the two sides separately."),
    "stride": dict(kind="pair", label="Stride", minimum=1, maximum=16, tooltip=_STRIDE_TIP),
    "padding": dict(kind="padding", label="Padding",
                    tooltip="valid: no padding, the map shrinks. same: pad so the output is "
                            "ceil(input / stride), any odd extra row or column at the bottom/right (Keras). "
                            "explicit: that many zero rows and columns on every side."),
    "activation": dict(kind="choice", label="Activation", choices=ACTIVATION_CHOICES,
                       tooltip="Applied to the layer's output, as if an activation layer followed it. "
                               "relu is the usual choice inside a network; leave the last layer linear "
                               "and end with Softmax."),
    "init": dict(kind="choice", label="Initialiser", choices=INIT_CHOICES,
                 tooltip="How the weights start. Automatic takes he_uniform when the output meets a ReLU "
                         "(here or in a later activation layer), glorot_uniform before tanh or sigmoid, "
                         "lecun_uniform otherwise, so a network starts alike however its activations are "
                         "written."),
    "rate": dict(kind="float", label="Drop rate", minimum=0.0, maximum=0.95, step=0.05, decimals=2,
                 tooltip="Fraction of inputs set to zero at random while training (the rest are scaled "
                         "by 1 / (1 − rate)); nothing is dropped at inference."),
    "momentum": dict(kind="float", label="Momentum", minimum=0.0, maximum=0.999, step=0.01, decimals=3,
                     tooltip="How slowly the running mean and variance used at inference follow each "
                             "batch: running = momentum × running + (1 − momentum) × batch."),
    "epsilon": dict(kind="sci", label="Epsilon", minimum=1e-10, maximum=0.1,
                    tooltip="Added to the variance before the square root, so a constant feature does "
                            "not divide by zero."),
    "alpha": dict(kind="float", label="Slope α", minimum=0.0, maximum=0.99, step=0.01, decimals=3,
                  tooltip="Slope for negative inputs: f(x) = x for x > 0, α·x otherwise. A small slope "
                          "keeps units from dying."),
}
_POOL_SPECS = {
    "pool_size": dict(kind="pair", label="Window", minimum=1, maximum=16,
                      tooltip="Height × width of the pooling window; each output is the max (or mean) "
                              "of one window."),
    "stride": dict(kind="pair", label="Stride", minimum=1, maximum=16,
                   tooltip=_STRIDE_TIP + " It follows the window size until you change it."),
    "padding": dict(kind="int", label="Padding", minimum=0, maximum=8,
                    tooltip="Rows and columns added on every side, at most half the window. Max pooling "
                            "pads with −∞, average pooling with zeros that count in the mean."),
}

DESCRIPTIONS = {
    "Conv2D": "2-D convolution: slides learned kernels over the image, one output channel per filter.",
    "MaxPool2D": "Keeps the largest value of each window: halves the map for a 2 × 2 window.",
    "AvgPool2D": "Averages each window: a smoother downsampling than max pooling.",
    "Dense": "Fully connected: every output is a weighted sum of every input.",
    "Flatten": "Turns a (channels, height, width) map into one vector, for Dense layers.",
    "Dropout": "Zeroes a random fraction of its inputs while training, against overfitting.",
    "BatchNorm": "Normalises each channel or feature over the batch; trains faster and steadier.",
    "ReLU": "max(0, x): the usual activation between layers.",
    "LeakyReLU": "x for x > 0, α·x otherwise: a ReLU whose negative side still learns.",
    "Sigmoid": "1 / (1 + e^−x): squashes to (0, 1).",
    "Tanh": "tanh(x): squashes to (−1, 1), centred on zero.",
    "Softmax": "Turns scores into class probabilities that sum to 1; ends a classifier.",
}

GROUPS = (("Convolution", ("Conv2D",)), ("Pooling", ("MaxPool2D", "AvgPool2D")),
          ("Fully connected", ("Dense", "Flatten")), ("Regularisation", ("Dropout", "BatchNorm")),
          ("Activation", ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax")))


def palette_groups():
    """(group, types) for every registered layer type; types the groups do not name go to 'Other'."""
    known = layer_types()
    groups = [(g, tuple(t for t in types if t in known)) for g, types in GROUPS]
    grouped = {t for _, types in groups for t in types}
    other = tuple(t for t in known if t not in grouped)
    return [(g, types) for g, types in groups + [("Other", other)] if types]


def group_of(type_name):
    return next((g for g, types in palette_groups() if type_name in types), "Other")


def description(type_name):
    doc = inspect.getdoc(layer_class(type_name)) or ""
    return DESCRIPTIONS.get(type_name) or doc.split("\n")[0] or type_name


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
    table = _POOL_SPECS if type_name.endswith("Pool2D") and name in _POOL_SPECS else _SPECS
    if name in table:
        return FieldSpec(name=name, **table[name])
    return _generic_spec(name, default)


def _generic_spec(name, default):
    """A usable field for a parameter this module has no entry for (a layer type added later)."""
    label = name.replace("_", " ").capitalize()
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return FieldSpec(name, "text", label, f"{name} (free text, as the layer's config stores it)")
    if isinstance(default, int):
        return FieldSpec(name, "int", label, name, minimum=0, maximum=100000)
    return FieldSpec(name, "float", label, name, minimum=-1e6, maximum=1e6, step=0.01, decimals=4)


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
