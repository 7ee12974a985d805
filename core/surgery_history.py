"""A surgery session: the changes made to copies of a model, in order, with undo and reset.

A change is a ``Step``: one operation of ``core.surgery`` and its arguments,
plain JSON values, so it can be described, saved and made again. The history
keeps the model after every step, so undo gives back exactly the model before
it (nothing is recomputed, and weight noise is not drawn again); reset gives
back the model the session started from, which no step ever changes. Each
edited model carries the steps that made it in ``meta["surgery"]``: a saved
copy says how it was made.
"""
import inspect
from dataclasses import dataclass, field

from . import surgery
from .inspect import layer_position
from .layers import Conv2D

OPERATIONS = {"switch_off": surgery.switch_off, "scale_unit": surgery.scale_unit, "shift_bias": surgery.shift_bias,
              "prune": surgery.prune, "add_weight_noise": surgery.add_weight_noise,
              "set_temperature": surgery.set_temperature}
META_KEY = "surgery"


@dataclass(frozen=True)
class Step:
    """One change: ``operation`` (a name in ``OPERATIONS``) called on a model with ``args`` as keywords.

    Example: ``Step("switch_off", {"layer": 0, "unit": 3})``.

    Attributes:
        operation: "switch_off", "scale_unit", "shift_bias", "prune", "add_weight_noise" or "set_temperature".
        args: that function's arguments after the model, by name (JSON values; noise takes an int ``rng`` seed).

    Raises:
        ValueError: an operation ``core.surgery`` does not have, an argument it does not take, or one missing.
    """
    operation: str
    args: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown surgery operation {self.operation!r}: choose one of {', '.join(OPERATIONS)}")
        params = list(inspect.signature(OPERATIONS[self.operation]).parameters.values())[1:]
        takes = [p.name for p in params]
        needs = {p.name for p in params if p.default is inspect.Parameter.empty}
        if set(self.args) - set(takes) or needs - set(self.args):
            raise ValueError(f"{self.operation} takes {', '.join(takes)} (needs {', '.join(sorted(needs))}); "
                             f"got {', '.join(map(repr, self.args)) or 'nothing'}")

    def apply(self, model):
        """The changed copy of ``model`` (``model`` itself is left as it was).

        Args:
            model: a built ``Sequential``.

        Raises:
            ValueError: arguments the operation refuses (see ``core.surgery``).
        """
        return OPERATIONS[self.operation](model, **self.args)

    def describe(self, model):
        """The change in words, naming the layer and unit of ``model`` it acts on.

        Args:
            model: the model the step is applied to (its layer names are used).
        """
        a = self.args
        if self.operation == "switch_off":
            return f"Switched off {unit_name(model, a['layer'], a['unit'])}"
        if self.operation == "scale_unit":
            return f"Scaled the weights of {unit_name(model, a['layer'], a['unit'])} by ×{a['factor']:g}"
        if self.operation == "shift_bias":
            return f"Shifted the bias of {unit_name(model, a['layer'], a['unit'])} by {a['delta']:+g}"
        if self.operation == "prune":
            where = "in every layer" if a.get("per_layer") else "across the model"
            return f"Pruned {100 * a['fraction']:g}% of the smallest weights {where}"
        if self.operation == "add_weight_noise":
            return f"Added weight noise σ = {a['sigma']:g} × each layer's spread"
        return f"Set the softmax temperature to {a['temperature']:g}"

    def to_json(self):
        """The step as one JSON object: ``{"operation": ..., **args}``."""
        return {"operation": self.operation, **self.args}


def unit_name(model, layer, unit):
    """What a learner calls a unit: "filter 3 of Conv2D #1" or "neuron 7 of Dense #6".

    Args:
        model: a built ``Sequential``.
        layer: the position of the layer in ``model.layers`` (negative counts from the end).
        unit: the unit's index.
    """
    target = model.layers[layer_position(model, layer)]
    return f"{'filter' if isinstance(target, Conv2D) else 'neuron'} {unit} of {target.name}"


class SurgeryHistory:
    """The steps applied to copies of ``original``, newest last; ``original`` itself is never changed.

    Args:
        original: the model the session starts from.
        keep: how many of the latest models to keep in memory.

    The models after the last ``keep`` steps are kept, so undo is instant; an
    older one is made again from the nearest model kept before it when undo
    reaches it (every step is deterministic: noise keeps its seed), so a long
    session holds ``keep`` copies of the model, not one per step.
    """

    def __init__(self, original, keep=8):
        self.original = original
        self.keep = max(int(keep), 1)
        self._done = []     # [step, description, model after it or None when dropped to save memory]

    def __len__(self):
        return len(self._done)

    @property
    def current(self):
        """The model after every step so far (``original`` when there is none)."""
        if not self._done:
            return self.original
        if self._done[-1][2] is None:
            self._remake()
        return self._done[-1][2]

    @property
    def descriptions(self):
        """Each step in words, first first."""
        return [text for _step, text, _model in self._done]

    @property
    def steps(self):
        """The ``Step``s made, first first."""
        return [step for step, _text, _model in self._done]

    def apply(self, step):
        """Apply ``step`` to the current model and return the new one.

        Args:
            step: a ``Step``.

        Raises:
            ValueError: a step the model refuses; the history stays as it was.
        """
        before = self.current
        model = _applied(step, before)
        self._done.append([step, step.describe(before), model])
        self._trim()
        return model

    def undo(self):
        """Drop the last step; returns the model before it (exactly), or None when there was no step."""
        if not self._done:
            return None
        self._done.pop()
        return self.current

    def reset(self):
        """Drop every step: back to ``original``."""
        self._done.clear()
        return self.original

    def _remake(self):
        """Make the models after the steps since the last one kept (or since ``original``) again."""
        start = max((i + 1 for i, (_s, _t, model) in enumerate(self._done) if model is not None), default=0)
        model = self._done[start - 1][2] if start else self.original
        for entry in self._done[start:]:
            model = entry[2] = _applied(entry[0], model)
        self._trim()

    def _trim(self):
        """Keep the models after the last ``keep`` steps only."""
        for entry in self._done[:-self.keep]:
            entry[2] = None


def _applied(step, model):
    """``step`` applied to ``model``, the new model's ``meta["surgery"]`` recording every step that made it."""
    changed = step.apply(model)
    changed.meta[META_KEY] = [*model.meta.get(META_KEY, []), step.to_json()]
    return changed
