"""The optimizer's state as entries of weights.npz, so a saved model continues training exactly.

Beside the weights ('0.W'), a saved model's weights.npz holds, under ``PREFIX``:
``optimizer/iterations`` (the step count Adam's bias correction needs),
``optimizer/<weight>/<slot>`` (momentum, moments: ``optimizer/0.W/m``) and,
when its last run had a learning-rate schedule, ``optimizer/schedule_start``
(the epoch the schedule counts from; the schedule itself is model.json's
'schedule'). Reading checks every entry against the model and the
optimizer: a ValueError names the entry; the loader adds the file.
"""
import numpy as np

from . import schedules
from .layers.base import fmt_shape

PREFIX = "optimizer/"
ITERATIONS = PREFIX + "iterations"
SCHEDULE_START = PREFIX + "schedule_start"


def to_arrays(optimizer):
    """{npz key: array} of ``optimizer``'s state (none for no optimizer)."""
    if optimizer is None:
        return {}
    out = {ITERATIONS: np.int64(optimizer.iterations)}
    if saved_schedule(optimizer) is not None:
        out[SCHEDULE_START] = np.int64(optimizer.schedule_start)
    for (position, name), slots in optimizer.state.items():
        out.update({f"{PREFIX}{position}.{name}/{slot}": value for slot, value in slots.items()})
    return out


def saved_schedule(optimizer):
    """The schedule of the optimizer's last run if it is one of numpynet's (model.json's 'schedule').

    A schedule of the user's own class cannot be rebuilt from a file: the
    model is saved without it and continues at a constant rate.
    """
    schedule = getattr(optimizer, "schedule", None)
    return schedule if type(schedule) in schedules.CLASSES.values() else None


def split(entries):
    """(weights, optimizer entries) of a weights.npz's {key: value}."""
    ours = {k: v for k, v in entries.items() if k.startswith(PREFIX)}
    return {k: v for k, v in entries.items() if k not in ours}, ours


def check(shapes, weight_shapes, optimizer, schedule):
    """Refuse (ValueError naming the entry) optimizer entries ({key: shape}) that do not fit the model
    (``weight_shapes``: {'0.W': shape}), the ``optimizer`` and the ``schedule`` that model.json names."""
    if shapes and optimizer is None:
        raise ValueError(f"{min(shapes)}: optimizer state, but model.json names no optimizer")
    if schedule is not None and SCHEDULE_START not in shapes and ITERATIONS in shapes:
        raise ValueError(f"{SCHEDULE_START} is missing, but model.json names a schedule")
    for key, shape in shapes.items():
        if key in (ITERATIONS, SCHEDULE_START):
            if shape != ():
                raise ValueError(f"{key}: one integer expected, got an array of shape {fmt_shape(shape)}")
            if key == SCHEDULE_START and schedule is None:
                raise ValueError(f"{key}: a schedule's start, but model.json names no schedule")
            continue
        weight, _, slot = key[len(PREFIX):].rpartition("/")
        if not weight:
            raise ValueError(f"{key}: unknown entry (expected {ITERATIONS}, {SCHEDULE_START} or {PREFIX}<weight>/"
                             f"<slot>)")
        if weight not in weight_shapes:
            raise ValueError(f"{key}: the model has no weight {weight}")
        if slot not in optimizer.slots:
            raise ValueError(f"{key}: {type(optimizer).__name__} keeps {', '.join(optimizer.slots)}, not {slot!r}")
        if tuple(shape) != tuple(weight_shapes[weight]):
            raise ValueError(f"{key}: shape {fmt_shape(shape)}, but weight {weight} has shape "
                             f"{fmt_shape(weight_shapes[weight])}")


def restore(optimizer, arrays):
    """Give ``optimizer`` the state of ``check``ed entries: step counts whole numbers >= 0, slots floats."""
    for key in (ITERATIONS, SCHEDULE_START):
        if key in arrays:
            value = arrays[key]
            if value.dtype.kind not in "iu" or int(value) < 0:
                raise ValueError(f"{key}: a whole number >= 0 expected, got {value.tolist()!r}")
    optimizer.iterations = int(arrays.get(ITERATIONS, 0))
    optimizer.schedule_start = int(arrays.get(SCHEDULE_START, 0))
    for key, value in arrays.items():
        if key not in (ITERATIONS, SCHEDULE_START):
            weight, _, slot = key[len(PREFIX):].rpartition("/")
            if value.dtype.kind != "f":
                raise ValueError(f"{key}: holds {value.dtype} values; a slot holds floats")
            position, name = weight.split(".", 1)
            optimizer.state.setdefault((int(position), name), {})[slot] = value
