"""What a training set looks like as a whole: the average image of each class and the spread of pixel values.

The average "3" shows what every 3 shares (and how much the strokes vary: a
blurred mean is a varied class); the histogram shows how the pixels are spread
over [0, 1] (MNIST: mostly background at 0, ink near 1, few greys between). Both
are computed in one pass over chunks of images, reporting progress between
chunks, so a 60,000-image set is summed off the GUI thread and can be cancelled.
"""
from dataclasses import dataclass

import numpy as np

from ..layers.base import fmt_shape

CHUNK = 5000        # images per step: a progress report (and a chance to cancel) every chunk
BINS = 32


@dataclass(eq=False)
class Summary:
    """The class means and the pixel histogram of a set of images.

    Attributes:
        means: (K, C, H, W) float32, the average image of each class (zeros for a class with no image).
        counts: (K,) int64, the images of each class.
        histogram: (C, BINS) int64, how many pixel values of each channel fall in each bin.
        edges: (BINS + 1,) float64, the bins' edges over [0, 1].
    """
    means: np.ndarray
    counts: np.ndarray
    histogram: np.ndarray
    edges: np.ndarray


def summarise(x, y, classes, bins=BINS, progress=None):
    """The ``Summary`` of a set of images: each class's average image, and the histogram of pixel values.

    Values outside [0, 1] count in the end bins.

    Args:
        x: images (N, C, H, W) in [0, 1].
        y: their labels, class indices (N,).
        classes: the number of classes (a class with no image gets a blank mean).
        bins: the histogram's bins over [0, 1].
        progress: ``progress(done, total)`` after each chunk of images (a worker's stop flag is read there).

    Raises:
        ValueError: x and y of different lengths, or x not (N, C, H, W).
    """
    x, y = np.asarray(x), np.asarray(y, np.int64)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"summarise needs images (N, C, H, W) and as many labels; got images of shape "
                         f"{fmt_shape(x.shape)} and {len(y)} labels")
    sums = np.zeros((classes, int(np.prod(x.shape[1:]))), np.float64)
    histogram = np.zeros((x.shape[1], bins), np.int64)
    for start in range(0, len(x), CHUNK):
        chunk, labels = x[start:start + CHUNK], y[start:start + CHUNK]
        sums += np.eye(classes, dtype=np.float32)[labels].T @ chunk.reshape(len(chunk), -1)
        histogram += _channel_counts(chunk, bins)
        if progress is not None:
            progress(min(start + CHUNK, len(x)), len(x))
    counts = np.bincount(y, minlength=classes)
    means = sums / np.maximum(counts, 1)[:, None]
    return Summary(means.reshape((classes,) + x.shape[1:]).astype(np.float32), counts, histogram,
                   np.linspace(0.0, 1.0, bins + 1))


def _channel_counts(chunk, bins):
    """(C, bins) counts of each channel's values; a bincount of bin indices (np.histogram sorts: slower)."""
    index = np.clip((chunk * bins).astype(np.int64), 0, bins - 1)
    return np.stack([np.bincount(index[:, c].ravel(), minlength=bins) for c in range(chunk.shape[1])])
