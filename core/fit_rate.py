"""The learning rate during one ``fit``: the schedule's factor of the base rate, and what callbacks set.

A schedule chosen for a run spans that run, so fit sets ``lr = base_lr *
factor`` before each batch. A callback (ReduceLROnPlateau, LearningRateScheduler,
your own) sets ``optimizer.lr`` between batches: that rate becomes the new
base (divided by the factor in force, so a schedule goes on multiplying it),
and it stays when ``fit`` ends. Without a callback's change the optimizer
ends at its base rate, so the next run's schedule starts where this one did.
"""
import math

from .layers.args import is_number


class RunRate:
    def __init__(self, optimizer, schedule):
        self.optimizer, self.schedule = optimizer, schedule
        self.factor, self.set_to = 1.0, optimizer.lr

    def before_batch(self, progress):
        """Adopt a rate a callback set, then apply the schedule at ``progress`` (epochs into the run)."""
        self._adopt()
        if self.schedule is not None:
            self.factor = self.schedule.factor(progress)
            self.optimizer.lr = self.set_to = self.optimizer.base_lr * self.factor

    def finish(self):
        """Leave the optimizer at its base rate: the configured one, or the last a callback set."""
        self._adopt()
        self.optimizer.lr = self.optimizer.base_lr

    def _adopt(self):
        opt = self.optimizer
        if opt.lr == self.set_to:
            return
        if not (is_number(opt.lr) and 0 < opt.lr < math.inf):
            raise ValueError(f"a callback set the learning rate to {opt.lr!r}; it must be a positive finite number")
        opt.base_lr = opt.lr / self.factor if self.factor > 0 else opt.lr
        self.set_to = opt.lr
