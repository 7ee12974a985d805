"""Checks of layer constructor arguments, shared by every layer.

Each check returns the value in its plain Python form or raises a
``ValueError`` that names the layer and the argument and quotes what it
received: "Conv2D: kernel_size must be a positive int or a pair of them, got 0".
A wrong value in code, in the editor or in a model.json is then found at once.
NumPy integers and floats are numbers; a bool is never one (``True`` is not a
size), and a float is not an int (``Dense(64.5)`` would silently drop the half).
"""
import math

import numpy as np

from ..errors import ArgumentError


def positive_int(layer, name, value):
    if not _is_int(value) or value < 1:
        raise _refused(layer, name, "an int of at least 1", value)
    return int(value)


def non_negative_int(layer, name, value):
    if not _is_int(value) or value < 0:
        raise _refused(layer, name, "a non-negative int", value)
    return int(value)


def pair(layer, name, value):
    """(a, b) from one positive int or a pair of them (tuple, list or array)."""
    items = (value, value) if _is_int(value) else value
    if isinstance(items, np.ndarray):
        items = items.tolist() if items.ndim == 1 else None
    if isinstance(items, (tuple, list)) and len(items) == 2 and all(_is_int(v) and v >= 1 for v in items):
        return tuple(int(v) for v in items)
    raise _refused(layer, name, "a positive int or a pair of them", value)


def conv_padding(layer, value):
    """'valid', 'same' or a non-negative int of zero rows and columns on every side."""
    if isinstance(value, str) and value in ("valid", "same"):
        return value
    if _is_int(value) and value >= 0:
        return int(value)
    raise _refused(layer, "padding", "'valid', 'same' or a non-negative int", value)


def fraction(layer, name, value):
    """A number in [0, 1): a rate, a momentum, a slope."""
    if not is_number(value) or not 0 <= value < 1:
        raise _refused(layer, name, "a number in [0, 1)", value)
    return float(value)


def positive_number(layer, name, value):
    if not is_number(value) or not 0 < value < math.inf:
        raise _refused(layer, name, "a positive finite number", value)
    return float(value)


def choice(layer, name, value, options):
    """One of ``options`` (names), or None."""
    if value is None or (isinstance(value, str) and value in options):
        return value
    raise _refused(layer, name, f"one of {', '.join(options)} (or None)", value)


def seed(layer, value):
    if value is None:
        return None
    if not _is_int(value) or value < 0:
        raise _refused(layer, "seed", "None or a non-negative int", value)
    return int(value)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _refused(layer, name, expected, value):
    return ArgumentError(type(layer).__name__, name, f"must be {expected}, got {value!r}")
