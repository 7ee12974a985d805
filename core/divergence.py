"""The divergence guard of ``fit``: catches a loss that blows up and puts back weights that were sane.

A diverging run rarely goes straight to NaN: with a learning rate of 1e4 the
loss climbs to 1e13 and stays finite, so looking only for NaN lets such a run
finish and be saved. The guard compares each batch's loss with a reference
level: the median of the recent batches, but never below the loss of a model
that knows nothing (logits of zero), so that a well-trained model's tiny and
noisy losses (0.01 next to 0.3) are not mistaken for an explosion. A loss
that climbs a few percent a batch drags that median up with it, so a single
batch is also measured against the lowest level of the run.

When it fires, the last weights that gave an ordinary loss may already be on
their way up, so the guard measures them against the weights the run started
with, on (a sample of) the training data, and restores the better: a
reported divergence never leaves the model worse than it started. The
optimizer's slots (momentum, Adam's moments) were built from the exploding
gradients, so they are cleared.
"""
import collections
import math
import statistics

import numpy as np

SPIKE = 100       # one batch this many times the run's lowest level: an explosion
RISE = 10         # ... or this many times the level for PATIENCE batches in a row
PATIENCE = 5
SANE = 2          # a loss within this multiple of the running median: weights worth returning to
WINDOW = 50       # batches in the running median
PROBE = 10_000    # training samples on which the candidates are compared
EVERY = 16        # batches between checkpoints: copying every weight each batch cost mlp_wide 5-10% of its time


class DivergenceGuard:
    """Watches one ``fit``: ``check`` before each update, ``restore`` when it says stop."""

    def __init__(self, model, x, y):
        self.model = model
        self.x, self.y = x, y           # sampled only if the guard fires
        self.start = _copy(model.get_weights())
        self.saved = _copy(self.start)
        self.saved_at = None            # (epoch, batch) of the checkpoint; None: the run's start
        self.recent = collections.deque(maxlen=WINDOW)
        self.floor = None
        self.lowest = math.inf          # the lowest running median of the run
        self.tripped = False            # check said stop; ``restore`` is due
        self.level = None               # the reference level when it did
        self.high = 0                   # batches in a row above RISE times the level
        self.since = 0                  # ordinary batches since the last checkpoint
        self.reason = None
        self.last = None                # (x, y, (epoch, batch)) of the last batch trained on

    def check(self, loss, out, y, where):
        """True when the batch's loss is ordinary and its update may go ahead.

        Called while the weights are still those that gave ``loss`` on the batch
        (``out`` are its outputs, ``y`` its labels), so an ordinary batch's
        weights are copied as the checkpoint to come back to.
        """
        if self.floor is None:
            self.floor = self.model.loss.value(np.zeros_like(out), y)
        median = statistics.median(self.recent) if self.recent else self.floor   # 1 us; np.median's 13 a batch
        self.lowest = min(self.lowest, median)
        level = max(self.lowest, self.floor)   # a slow climb drags the median up, not the lowest level
        self.high = self.high + 1 if loss > RISE * max(median, self.floor) else 0
        if not math.isfinite(loss) or loss > SPIKE * level or self.high >= PATIENCE:
            self.tripped, self.level = True, level
            return False
        self.since += 1
        if self.recent and loss <= SANE * median and self.since >= EVERY:
            self._checkpoint(where)   # (the first batch's weights are the start's, already kept)
        self.recent.append(loss)
        return True

    def check_last_update(self):
        """Judge an epoch's last update by the loss of its own batch after it, before the epoch is validated.

        The next batch would judge it too, but the epoch's figures come first, and a run's final
        update has no next batch: without this a run whose last step blew up ended as a success.
        """
        if self.tripped or self.last is None:   # already restored, or nothing was trained
            return
        xb, yb, where = self.last
        out = self.model._forward_logits(xb, training=False)   # training=False: BatchNorm's statistics stay
        loss = self.model.loss.value(out, yb)
        if not self.check(loss, out, yb, where):
            self.restore(loss, *where)

    def _checkpoint(self, where):
        for k, v in self.model.get_weights().items():
            np.copyto(self.saved[k], v)
        self.saved_at, self.since = where, 0

    def restore(self, loss, epoch, batch):
        """Put back the better of the checkpoint and the run's start, clear the optimizer's slots."""
        model = self.model
        restored, probe_loss = self._best()
        model.set_weights(restored)
        model.optimizer.state.clear()
        model.optimizer.iterations = 0
        what = ("the weights the run started with" if restored is self.start else
                f"the weights of epoch {self.saved_at[0] + 1}, batch {self.saved_at[1] + 1}")
        if math.isfinite(loss):
            how = f"exploded to {loss:.3g}, {loss / self.level:.3g} times its lowest level {self.level:.3g},"
        else:
            how = f"became {loss}"
        self.reason = (f"training diverged: the loss {how} at epoch {epoch + 1}, batch {batch + 1} "
                       f"(learning rate {model.optimizer.lr:g}). Restored {what} (training loss {probe_loss:.4g}) "
                       f"and cleared the optimizer's state. Try a lower learning rate.")

    def _best(self):
        """(weights, probe loss) of the checkpoint, or of the start when the checkpoint is worse."""
        start_loss = self._score(self.start)
        if self.saved_at is None:
            return self.start, start_loss
        saved_loss = self._score(self.saved)
        return (self.saved, saved_loss) if saved_loss <= start_loss else (self.start, start_loss)

    def _score(self, weights):
        self.model.set_weights(weights)
        return self.model.evaluate(*_probe(self.x, self.y))["loss"]


def _copy(weights):
    return {k: v.copy() for k, v in weights.items()}


def _probe(x, y):
    """The training samples the candidates are scored on: all of them, or a fixed sample of PROBE."""
    if len(x) <= PROBE:
        return x, y
    pick = np.sort(np.random.default_rng(0).choice(len(x), PROBE, replace=False))
    return x[pick], y[pick]
