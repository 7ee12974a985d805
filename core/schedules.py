"""Learning-rate schedules: a factor of the optimizer's base rate at a point in training.

``t`` is training progress in epochs, fractional within an epoch, so cosine
decays smoothly batch by batch while step decay jumps at epoch boundaries.
"""
import math


class Schedule:
    """Base of the schedules: a subclass defines ``factor(t)``, the multiple of the base rate at ``t``."""

    def factor(self, t):
        """The learning rate's multiple of the optimizer's base rate at ``t``.

        Args:
            t: progress into the run in epochs, fractional within an epoch (0 at its start).
        """
        raise NotImplementedError(f"{type(self).__name__} defines no factor")

    def get_config(self):
        """``{"type": class name, **arguments}``, as model.json and run records store it."""
        return {"type": type(self).__name__, **vars(self)}


class StepDecay(Schedule):
    """Multiply by ``gamma`` every ``step_epochs`` epochs.

    Args:
        step_epochs: epochs between two drops, an int of at least 1.
        gamma: the factor of each drop, in (0, 1].

    Raises:
        ValueError: an argument out of range.

    Example:
        >>> model.fit(x, y, epochs=6, lr_schedule=StepDecay(step_epochs=2, gamma=0.5))
    """

    def __init__(self, step_epochs=1, gamma=0.5):
        if step_epochs < 1 or not 0 < gamma <= 1:
            raise ValueError(f"StepDecay needs step_epochs >= 1 and 0 < gamma <= 1, got {step_epochs}, {gamma}")
        self.step_epochs, self.gamma = int(step_epochs), float(gamma)

    def factor(self, t):
        return self.gamma ** int(t // self.step_epochs)


class ExponentialDecay(Schedule):
    """Multiply by ``gamma`` per epoch, continuously.

    Args:
        gamma: the factor per epoch, in (0, 1]; ``gamma ** t`` after ``t`` epochs.

    Raises:
        ValueError: ``gamma`` out of range.
    """

    def __init__(self, gamma=0.9):
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay gamma must be in (0, 1], got {gamma}")
        self.gamma = float(gamma)

    def factor(self, t):
        return self.gamma ** t


class CosineDecay(Schedule):
    """Half a cosine from the base rate down to ``min_factor`` of it over ``epochs``.

    Args:
        epochs: the epochs the decay spans; after them the factor stays at ``min_factor``.
        min_factor: the final multiple of the base rate, in [0, 1].

    Raises:
        ValueError: ``epochs`` not positive, or ``min_factor`` out of range.
    """

    def __init__(self, epochs, min_factor=0.0):
        if epochs <= 0 or not 0 <= min_factor <= 1:
            raise ValueError(f"CosineDecay needs epochs > 0 and 0 <= min_factor <= 1, got {epochs}, {min_factor}")
        self.epochs, self.min_factor = float(epochs), float(min_factor)

    def factor(self, t):
        frac = min(t / self.epochs, 1.0)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * frac))


def epochs_past_end(optimizer, epochs_trained, more):
    """How many of ``more`` epochs fall past the end of the optimizer's cosine schedule.

    Past its end a cosine trains at its final rate (0 for a plain cosine), so a
    run continued there learns nothing: the app and ``train --resume`` grow the
    span by this many epochs.

    Args:
        optimizer: an optimizer whose ``schedule`` (if any) counts epochs from ``schedule_start``.
        epochs_trained: the epochs the model has trained in all.
        more: the epochs about to be trained.

    Returns:
        The count, 0 for no schedule or one without an end (step, exponential).
    """
    schedule = getattr(optimizer, "schedule", None)
    if not isinstance(schedule, CosineDecay):
        return 0
    left = schedule.epochs - (epochs_trained - optimizer.schedule_start)
    return max(0, math.ceil(more - max(left, 0)))


SCHEDULES = {"step": StepDecay, "exponential": ExponentialDecay, "cosine": CosineDecay}
CLASSES = {cls.__name__: cls for cls in SCHEDULES.values()}   # by the 'type' of get_config


def get(spec, epochs=None):
    """A Schedule from an instance, None, or a name ('cosine' spans ``epochs``).

    Args:
        spec: a Schedule (returned as it is), None (no schedule), or "step", "exponential", "cosine"
            with their default arguments.
        epochs: the epochs a "cosine" schedule spans.

    Raises:
        ValueError: an unknown name, or "cosine" without ``epochs``.
    """
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

