"""Where ``fit``'s batches come from: arrays (in memory or memory-mapped) or an iterable of batches.

Either way a batch reaches the model as float32, converted batch by batch:
uint8 pixels are scaled to [0, 1] as the dataset loaders scale them
(``datasets.to_images``), so a memory-mapped uint8 file of any size is read
a batch at a time and never copied whole.
"""
import math

import numpy as np

from .datasets.dataset import to_images
from .layers.args import is_number
from .sample_weights import per_sample_weights


def as_inputs(x):
    """float32 model inputs from a batch (or a whole array): uint8 pixels scaled to [0, 1], else as they are."""
    x = np.asarray(x)
    return to_images(x) if x.dtype == np.uint8 else x.astype(np.float32, copy=False)


def split_off_validation(x, y, weights, fraction):
    """((x, y, weights) to train on, (x, y) to validate on): the last ``fraction`` held out, as in Keras.

    Taken before any shuffling, so it is the same samples every epoch and every run.
    """
    if not (is_number(fraction) and 0 <= fraction < 1):
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {fraction!r}")
    split_at = math.ceil(len(x) * (1 - fraction))   # Keras's rounding
    if split_at == len(x) or split_at == 0:
        raise ValueError(f"validation_split={fraction} of {len(x)} samples leaves "
                         f"{'no samples to validate on' if split_at == len(x) else 'nothing to train on'}")
    cut = None if weights is None else weights[:split_at]
    return (x[:split_at], y[:split_at], cut), (x[split_at:], y[split_at:])


class ArrayBatches:
    """Batches of arrays, in a new random order each epoch when ``shuffle``."""

    def __init__(self, x, y, weights, batch_size, shuffle):
        self.x, self.y, self.weights = x, y, weights
        self.batch_size, self.shuffle = batch_size, shuffle
        self.samples = len(x)
        self.steps = math.ceil(len(x) / batch_size)
        self.ran_out = None   # arrays never run out

    def epoch(self, rng):
        """(x, y, weights) of each batch of one epoch."""
        order = rng.permutation(self.samples) if self.shuffle else np.arange(self.samples)
        for b in range(self.steps):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if not self.shuffle:
                idx = slice(idx[0], idx[-1] + 1)   # a plain slice reads a memory map in one sweep
            yield as_inputs(self.x[idx]), self.y[idx], None if self.weights is None else self.weights[idx]

    def probe(self):
        """Training data the divergence guard may score candidate weights on."""
        return self.x, self.y


class IterableBatches:
    """Batches from an iterable or generator of (x, y) or (x, y, sample_weight) tuples.

    With ``steps_per_epoch`` each epoch takes that many batches from one
    iterator that runs on across epochs (a generator looping over its data,
    as Keras expects); a re-iterable (a list, a Sequence) starts again when it
    ends. Without it, each epoch is one pass over a re-iterable with a length.
    A generator that ends early stops training, saying so in ``ran_out``.
    """

    def __init__(self, data, steps_per_epoch, check, class_weight):
        self.data, self.check, self.class_weight = data, check, class_weight
        self.reiterable = iter(data) is not data
        self.one_pass = steps_per_epoch is None   # each epoch a pass over the data
        if self.one_pass:
            if not (self.reiterable and hasattr(data, "__len__")):
                raise ValueError(f"fit: a generator or iterator of batches ({type(data).__name__}) needs "
                                 f"steps_per_epoch, the number of batches in one epoch")
            steps_per_epoch = len(data)
        if not (isinstance(steps_per_epoch, int) and not isinstance(steps_per_epoch, bool) and steps_per_epoch >= 1):
            raise ValueError(f"steps_per_epoch must be an int >= 1, got {steps_per_epoch!r}")
        self.steps, self.samples, self.ran_out = steps_per_epoch, None, None
        self.it = iter(data)
        self.first = self._next(0)   # checked now, before training starts
        if self.first is None:
            raise ValueError(f"fit: the batches given ({type(data).__name__}) are empty")
        self.pending = self.first    # handed out by the first epoch
        self.begun = False

    def epoch(self, rng):
        """(x, y, weights) of each batch of one epoch (``rng`` unused: the data orders itself)."""
        if self.one_pass and self.begun:
            self.it = iter(self.data)
        self.begun = True
        for b in range(self.steps):
            batch = self.pending if self.pending is not None else self._next(b)
            self.pending = None
            if batch is None:
                self.ran_out = (f"the batches ran out after {b} of an epoch's {self.steps} "
                                f"(steps_per_epoch): give a generator that loops over its data")
                return
            yield batch

    def _next(self, b):
        """The next checked batch, restarting a re-iterable that ended; None when the data is done."""
        batch = next(self.it, None)
        if batch is None and self.reiterable and not self.one_pass:
            self.it = iter(self.data)
            batch = next(self.it, None)
        return None if batch is None else self._checked(batch, b)

    def _checked(self, batch, b):
        if not (isinstance(batch, (tuple, list)) and len(batch) in (2, 3)):
            raise ValueError(f"fit: batch {b + 1} must be a tuple (x, y) or (x, y, sample_weight), "
                             f"got {type(batch).__name__}")
        x, y = self.check(batch[0], batch[1], f"fit batch {b + 1}")
        weights = per_sample_weights(y, self.class_weight, batch[2] if len(batch) == 3 else None)
        return as_inputs(x), y, weights

    def probe(self):
        """The first batch: all the divergence guard can score weights on without rereading the data."""
        x, y, _ = self.first
        return x, y


def is_batches(x):
    """True when ``fit``'s x is an iterable of (x, y) batches rather than an array of samples."""
    if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        return False
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and isinstance(x[0], tuple)
    return hasattr(x, "__iter__") or hasattr(x, "__getitem__")
