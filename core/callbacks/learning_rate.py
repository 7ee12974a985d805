"""Callbacks that set the learning rate: ReduceLROnPlateau and LearningRateScheduler (Keras's meanings).

They set ``model.optimizer.lr``; ``fit`` takes a rate a callback set as the
run's new base rate (a ``lr_schedule`` goes on multiplying it) and leaves it
there when training ends.
"""
import math

from ..layers.args import is_number
from .base import Callback
from .monitor import Monitor


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the logs key to watch.
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement before the rate drops.
        mode: 'min', 'max' or 'auto' (from the name).
        min_delta: a change smaller than this is no improvement.
        cooldown: epochs after a drop during which waiting does not count.
        min_lr: the rate never drops below this.
        verbose: 1 prints a line at each drop.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        if not (is_number(factor) and 0 < factor < 1):
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        if not (is_number(min_lr) and 0 <= min_lr < math.inf):
            raise ValueError(f"ReduceLROnPlateau: min_lr must be >= 0 and finite, got {min_lr!r}")
        self.monitor = Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = float(factor), patience, verbose
        self.cooldown, self.min_lr = cooldown, float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = self.monitor.worst, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor.value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor.improves(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        optimizer = self.model.optimizer
        if optimizer.lr <= self.min_lr:
            return
        optimizer.lr = max(optimizer.lr * self.factor, self.min_lr)
        self.cooldown_counter, self.wait = self.cooldown, 0
        if self.verbose:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau set the learning rate to {optimizer.lr:g}")


class LearningRateScheduler(Callback):
    """At each epoch's start, set the learning rate to ``schedule(epoch, lr)``.

    Args:
        schedule: a function of the epoch (from 0) and the current rate, returning
            the new rate (a function of the epoch alone is accepted too, as in Keras).
        verbose: 1 prints the rate at each epoch.
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise ValueError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, "
                             f"got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, optimizer.lr)
        except TypeError:   # Keras accepts schedule(epoch) too
            lr = self.schedule(epoch)
        if not (is_number(lr) and 0 < lr < math.inf):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, {optimizer.lr:g}) returned {lr!r}; "
                             f"a learning rate must be a positive finite number")
        optimizer.lr = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler set the learning rate to {optimizer.lr:g}")
