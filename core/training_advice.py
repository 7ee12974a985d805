"""What a learner should hear about a run from its curves alone: a rising loss, a plateau.

Plain functions of the numbers the plots hold (batch losses, epoch
validation accuracies), NumPy only, so the app, the command line and a test
of known curves share one judgement. Each returns a sentence saying what is
wrong, or None when nothing is.
"""
import numpy as np

from .divergence import RISE
from .text import percent

WINDOW = 50          # batches averaged on each side of the comparison: one noisy batch proves nothing
LOSS_RISE = 0.10     # the last window's mean loss this much above the window before: rising ...
NOISE = 3            # ... and by this many standard errors of the difference, so batch noise is not a rise
SHORT = 10           # batches per mean when watching for a climb towards divergence, which is quick
NEAR_GUARD = RISE / 3   # two short means in a row this many times the run's lowest: heading for divergence
PATIENCE = 2         # epochs without improvement that make a plateau
MIN_GAIN = 0.002     # validation accuracy gained that counts as improvement (0.2 points)


def _window_means(losses, window):
    """Means of consecutive ``window``-batch stretches, ending at the last batch."""
    usable = len(losses) - len(losses) % window
    return losses[len(losses) - usable:].reshape(-1, window).mean(axis=1)


def loss_rising(losses, window=WINDOW, rise=LOSS_RISE):
    """Why the batch loss is going the wrong way, or None.

    Args:
        losses: the run's batch losses in order (a 1-D array-like).
        window: batches in each mean compared.
        rise: how far (a fraction) the last mean must sit above the one before.

    Returns:
        A sentence when the last batches hold a NaN or infinite loss; when two ``SHORT``-batch means in
        a row are ``NEAR_GUARD`` times the run's lowest and the last is the higher (a climb towards
        what the divergence guard stops); when the mean of the last ``window`` batches is ``rise`` above
        the mean of the ``window`` before (beyond their noise) and above the run's best; else None.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if len(losses) and not np.isfinite(losses[-window:]).all():
        return "The loss became NaN or infinite: the steps are far too large."
    return _climbing(losses) or _rising(losses, window, rise)


def _climbing(losses):
    """The quick test: a loss many times its lowest, twice in a row, still going up, and beyond noise.

    A fine-tuned model's loss is near zero with rare spikes (0.005, then 0.3): its short means jump
    several times their lowest at random. So the last two means must also clear ``NEAR_GUARD`` times
    the lowest by ``NOISE`` standard errors of a short mean, from the spread of the batches in them.
    """
    if len(losses) < 3 * SHORT:
        return None
    means = _window_means(losses, SHORT)
    low = means.min()
    error = losses[-2 * SHORT:].std() / np.sqrt(SHORT)
    if low > 0 and min(means[-2:]) > NEAR_GUARD * low + NOISE * error and means[-1] > means[-2]:
        return (f"The loss is {means[-1] / low:.0f}× its lowest in this run and climbing: the run is heading "
                "for divergence.")
    return None


def _rising(losses, window, rise):
    """The patient test: the last ``window`` batches worse than the ``window`` before, beyond noise."""
    if len(losses) < 2 * window:
        return None
    means = _window_means(losses, window)
    last, before = means[-1], means[-2]
    spread = np.sqrt((losses[-window:].var() + losses[-2 * window:-window].var()) / window)
    if last > before * (1 + rise) and last - before > NOISE * spread and last > means.min() * (1 + rise):
        return (f"The loss is rising: the last {window} batches average {last:.3g}, "
                f"up {percent(last / before - 1, 0)} on the {window} before.")
    return None


def plateau(val_accuracy, planned=None, patience=PATIENCE, min_gain=MIN_GAIN):
    """Why the validation accuracy has stopped improving early, or None.

    Args:
        val_accuracy: the run's validation accuracy per epoch, in order.
        planned: epochs the run plans in all; a plateau counts only with epochs still to come
            (None: always).
        patience: epochs without a gain of ``min_gain`` over the best before them.
        min_gain: the gain that counts as improving (a fraction: 0.002 is 0.2 points).
    """
    acc = [float(a) for a in val_accuracy]
    if len(acc) <= patience or (planned is not None and len(acc) >= planned):
        return None
    best_before, recent = max(acc[:-patience]), max(acc[-patience:])
    if recent >= best_before + min_gain:
        return None
    return (f"Validation accuracy has not improved for {patience} epochs (best {percent(best_before, 2)}): "
            "a learning-rate schedule takes smaller steps to settle into a better minimum.")
