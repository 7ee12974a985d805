"""Learning-rate schedules: a factor of the optimizer's base rate at a point in training.

``t`` is training progress in epochs, fractional within an epoch, so cosine
decays smoothly batch by batch while step decay jumps at epoch boundaries.
"""
import math


class Schedule:
    def factor(self, t):
        raise NotImplementedError

    def get_config(self):
        return {"type": type(self).__name__, **vars(self)}


class StepDecay(Schedule):
    """Multiply by ``gamma`` every ``step_epochs`` epochs."""

    def __init__(self, step_epochs=1, gamma=0.5):
        if step_epochs < 1 or not 0 < gamma <= 1:
            raise ValueError(f"StepDecay needs step_epochs >= 1 and 0 < gamma <= 1, got {step_epochs}, {gamma}")
        self.step_epochs, self.gamma = int(step_epochs), float(gamma)

    def factor(self, t):
        return self.gamma ** int(t // self.step_epochs)


class ExponentialDecay(Schedule):
    """Multiply by ``gamma`` per epoch, continuously."""

    def __init__(self, gamma=0.9):
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay gamma must be in (0, 1], got {gamma}")
        self.gamma = float(gamma)

    def factor(self, t):
        return self.gamma ** t


class CosineDecay(Schedule):
    """Half a cosine from the base rate down to ``min_factor`` of it over ``epochs``."""

    def __init__(self, epochs, min_factor=0.0):
        if epochs <= 0 or not 0 <= min_factor <= 1:
            raise ValueError(f"CosineDecay needs epochs > 0 and 0 <= min_factor <= 1, got {epochs}, {min_factor}")
        self.epochs, self.min_factor = float(epochs), float(min_factor)

    def factor(self, t):
        frac = min(t / self.epochs, 1.0)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * frac))


SCHEDULES = {"step": StepDecay, "exponential": ExponentialDecay, "cosine": CosineDecay}
CLASSES = {cls.__name__: cls for cls in SCHEDULES.values()}   # by the 'type' of get_config


def get(spec, epochs=None):
    """A Schedule from an instance, None, or a name ('cosine' spans ``epochs``)."""
    if spec is None or isinstance(spec, Schedule):
        return spec
    if spec == "cosine":
        if not epochs:
            raise ValueError("the 'cosine' schedule needs the number of epochs it spans")
        return CosineDecay(epochs)
    try:
        return SCHEDULES[spec]()
    except KeyError:
        raise ValueError(f"unknown schedule {spec!r}; choose one of {', '.join(SCHEDULES)}") from None

