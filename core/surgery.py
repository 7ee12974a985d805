"""Surgery on a trained network: switch units off, rescale them, prune, add noise, set a temperature.

Every function returns a changed copy and never touches the model it is
given, so a learner can try a cut, compare, and throw it away: the trained
model is never changed by accident. A unit is one output of a Dense layer
(a column of its ``W``) or one filter of a Conv2D layer (``W[f]``), named by
the layer's position in ``model.layers`` (from 0) and its index.
"""
import math

import numpy as np

from . import optimizers
from .inspect import layer_position
from .layers import BatchNorm, Conv2D, Dense, Flatten, Sigmoid



def switch_off(model, layer, unit):
    """A copy whose ``unit`` of ``layer`` outputs 0 for every input: its weights and bias are zeroed.

    A BatchNorm after the layer (before the next layer with weights) would
    turn that 0 into its own constant, so its ``gamma`` and ``beta`` for that
    channel are zeroed too. What follows then sees a unit that is silent
    (through ReLU, tanh, pooling; a sigmoid after it sees 0 and gives a
    constant 0.5).

    Args:
        model: a built ``Sequential``.
        layer: the position of a Dense or Conv2D layer in ``model.layers`` (from 0; negative counts
            from the end).
        unit: the output unit (Dense) or filter (Conv2D), from 0.

    Returns:
        The changed copy.

    Raises:
        ValueError: a position out of range, a layer without units, or a unit out of range.
    """
    twin, target, index = _unit(model, layer, unit)
    _unit_slice(target, index)[...] = 0
    target.params["b"][index] = 0
    for follower in _same_units_after(twin, target):
        if isinstance(follower, BatchNorm):
            follower.params["gamma"][index] = 0
            follower.params["beta"][index] = 0
    return twin


def _same_units_after(model, target):
    """The layers after ``target`` whose outputs keep its units apart (activations, pooling, Dropout,
    BatchNorm), up to the next layer that mixes them (a layer with weights, Flatten)."""
    for layer in model.layers[model.layers.index(target) + 1:]:
        if isinstance(layer, (Dense, Conv2D, Flatten)):
            return
        yield layer


def scale_unit(model, layer, unit, factor):
    """A copy with the incoming weights of ``unit`` multiplied by ``factor`` (its bias kept).

    Args:
        model: a built ``Sequential``.
        layer: the position of a Dense or Conv2D layer (as ``switch_off``).
        unit: the output unit or filter, from 0.
        factor: a finite number (0 leaves only the bias; -1 flips the unit's feature).

    Returns:
        The changed copy.

    Raises:
        ValueError: as ``switch_off``, or a factor that is not finite.
    """
    twin, target, index = _unit(model, layer, unit)
    _unit_slice(target, index)[...] *= _finite("factor", factor)
    return twin


def shift_bias(model, layer, unit, delta):
    """A copy with ``delta`` added to the bias of ``unit``: it fires more (positive) or less.

    Args:
        model: a built ``Sequential``.
        layer: the position of a Dense or Conv2D layer (as ``switch_off``).
        unit: the output unit or filter, from 0.
        delta: a finite number.

    Returns:
        The changed copy.

    Raises:
        ValueError: as ``switch_off``, or a delta that is not finite.
    """
    twin, target, index = _unit(model, layer, unit)
    target.params["b"][index] += _finite("delta", delta)
    return twin


def prune(model, fraction, per_layer=False):
    """A copy with the ``fraction`` of smallest-magnitude weights set to 0.

    Only the weights ``W`` of Dense and Conv2D layers are pruned; biases and
    BatchNorm are kept, so pruning everything leaves a model that gives every
    input the same answer. Exactly round(fraction * count) weights are zeroed
    (ties broken by position), whatever the values.

    Args:
        model: a built ``Sequential``.
        fraction: the share of weights to zero, in [0, 1].
        per_layer: False ranks all weights of the model together (a layer of small weights may
            lose most of them); True prunes that fraction of every layer.

    Returns:
        The pruned copy.

    Raises:
        ValueError: a fraction outside [0, 1].
    """
    fraction = _finite("prune: fraction", fraction, "in [0, 1]", lambda v: 0 <= v <= 1)
    twin = _copy(model)
    weights = [layer.params["W"] for layer in twin.layers if isinstance(layer, (Dense, Conv2D))]
    groups = [[w] for w in weights] if per_layer else [weights] if weights else []
    for group in groups:
        flat = np.concatenate([np.abs(w).ravel() for w in group])
        cut = _smallest(flat, int(round(fraction * flat.size)))
        for w, mask in zip(group, np.split(cut, np.cumsum([w.size for w in group])[:-1])):
            w[mask.reshape(w.shape)] = 0
    return twin


def _smallest(values, k):
    """A mask of the ``k`` smallest of ``values``, ties at the cut taken first by position.

    The k-th smallest value is found by partition, O(n): a full sort of
    LeNet-5's 431,080 weights took 0.4 s, long enough to freeze the window
    the app prunes in.
    """
    if k == 0:
        return np.zeros(values.size, bool)
    cut_value = np.partition(values, k - 1)[k - 1]
    mask = values < cut_value
    mask[np.flatnonzero(values == cut_value)[:k - int(mask.sum())]] = True
    return mask


def add_weight_noise(model, sigma, rng=None):
    """A copy whose Dense and Conv2D weights get Gaussian noise of ``sigma`` times their own spread.

    The noise of each weight array is relative to its standard deviation:
    conv kernels and dense matrices differ in scale by an order of magnitude,
    and one absolute sigma would wreck one and leave the other untouched.

    Args:
        model: a built ``Sequential``.
        sigma: the noise's standard deviation relative to each array's, a number >= 0.
        rng: a ``numpy.random.Generator`` or a seed; None draws fresh ones.

    Returns:
        The changed copy.

    Raises:
        ValueError: a sigma that is negative or not finite.
    """
    sigma = _finite("add_weight_noise: sigma", sigma, "a finite number >= 0", lambda v: v >= 0)
    rng = np.random.default_rng(rng)
    twin = _copy(model)
    for layer in twin.layers:
        if isinstance(layer, (Dense, Conv2D)):
            w = layer.params["W"]
            w += (sigma * w.std()) * rng.standard_normal(w.shape, dtype=np.float32)
    return twin


def set_temperature(model, temperature):
    """A copy whose ``predict`` divides the class scores by ``temperature`` before the softmax.

    Kept in ``meta["temperature"]``, so it is saved and loaded with the model.
    Above 1 the probabilities soften, below 1 they sharpen; the predicted class
    never changes. ``core.calibration.fit_temperature`` finds the honest one.

    Args:
        model: a built ``Sequential`` ending in a softmax (or raw scores).
        temperature: a finite number > 0; 1 removes it.

    Returns:
        The changed copy.

    Raises:
        ValueError: a temperature that is not a finite positive number, or a model ending in a Sigmoid
            or predicting raw values (a regression).
    """
    require_softmax(model, "set_temperature")
    temperature = _finite("set_temperature: temperature", temperature, "a finite number > 0", lambda v: v > 0)
    twin = _copy(model)
    if temperature == 1:
        twin.meta.pop("temperature", None)
    else:
        twin.meta["temperature"] = float(temperature)
    return twin


def require_softmax(model, what):
    """Refuse a model whose probabilities are not one softmax of class scores: a temperature means nothing there.

    Args:
        model: a built ``Sequential``.
        what: the function asking, named in the message.

    Raises:
        ValueError: the model ends in a Sigmoid or predicts raw values (a regression).
    """
    if isinstance(model.output_activation, Sigmoid) or (model.output_activation is None
                                                         and not model.outputs_are_logits):
        raise ValueError(f"{what}: a softmax temperature needs a classifier ending in a softmax (or in class "
                         f"scores), but the model ends in a Sigmoid or predicts raw values (a regression)")


def _copy(model):
    """``model.copy()``, compiled like ``model`` (fresh optimizer state) so it evaluates at once."""
    twin = model.copy()
    if model.optimizer is not None and model.loss is not None:
        twin.compile(optimizers.from_config(model.optimizer.get_config()), model.loss)
    return twin


def _unit(model, layer, unit):
    """(copy, its layer at ``layer``, unit index), checked: a position and unit that exist."""
    position = layer_position(model, layer)
    target = model.layers[position]
    if not isinstance(target, (Dense, Conv2D)):
        raise ValueError(f"{target.name} has no units to operate on: choose a Dense or Conv2D layer")
    units = target.params["b"].shape[0]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < units:
        raise ValueError(f"{target.name} has units 0 to {units - 1}, got unit {unit!r}")
    twin = _copy(model)
    return twin, twin.layers[position], int(unit)


def _unit_slice(layer, index):
    """The view of ``layer``'s weight that feeds output unit ``index``: Dense W is (in, out),
    Conv2D W (out, in, kh, kw)."""
    w = layer.params["W"]
    return w[:, index] if isinstance(layer, Dense) else w[index]


def _finite(name, value, rule="a finite number", ok=lambda v: True):
    """``value`` as a float, or a ValueError naming ``name`` and what it must be."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and ok(number)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return number
