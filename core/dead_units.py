"""Dead units: the share of each activation's units that passed nothing on for a whole batch.

A ReLU unit whose inputs are all negative outputs zero and gets no gradient,
so it stops learning; a Sigmoid or Tanh unit stuck at its flat ends passes
almost no gradient either. Watching the share per layer while training shows
a learning rate or an initialisation that kills a layer. The figures are read
from what each activation kept of the last forward pass for its backward (a
mask, or its output), so they cost no second pass: call ``dead_units`` right
after a training batch. A unit is a feature of a Dense layer's output, or a
channel (filter) of a conv layer's output, dead only when it is dead at
every position of every image of the batch.
"""
import numpy as np

from .layers.activations import LeakyReLU, ReLU, Sigmoid, Tanh

SATURATED = 0.01   # a Sigmoid or Tanh passing under 1 % of its steepest slope counts as dead
ACTIVATIONS = (ReLU, LeakyReLU, Sigmoid, Tanh)


def _passes_nothing(act):
    """Per element of the last batch, whether ``act`` passed (almost) no gradient; None before any forward."""
    if isinstance(act, ReLU):
        out = getattr(act, "_out", None)
        return None if out is None else ~(out > 0)
    if isinstance(act, LeakyReLU):
        mask = getattr(act, "_mask", None)
        return None if mask is None else ~mask
    y = getattr(act, "_y", None)
    if y is None:
        return None
    if isinstance(act, Sigmoid):
        return y * (1 - y) < SATURATED * 0.25
    return 1 - y * y < SATURATED


def share_dead(dead):
    """The share of units dead for the whole batch, from a boolean (N, units) or (N, C, H, W) array."""
    axes = (0,) if dead.ndim == 2 else (0, *range(2, dead.ndim))
    return float(np.all(dead, axis=axes).mean())


def _activations(model):
    """(name, activation layer) of each hidden activation, standalone or fused into Dense/Conv2D."""
    found = []
    for layer in model.layers:
        if isinstance(layer, ACTIVATIONS):
            found.append((layer.name, layer))
        elif isinstance(getattr(layer, "act", None), ACTIVATIONS):
            found.append((f"{layer.name} ({layer.activation})", layer.act))
    return found


def dead_units(model):
    """{activation's name: share of its units dead on the last batch}, in layer order.

    Args:
        model: a Sequential that has just run a forward pass (a training batch).

    Returns:
        A dict such as ``{"ReLU #2": 0.0, "ReLU #6": 0.125}``; layers not run yet are left out.
    """
    shares = {}
    for name, act in _activations(model):
        dead = _passes_nothing(act)
        if dead is not None and dead.ndim >= 2:
            shares[name] = share_dead(dead)
    return shares
