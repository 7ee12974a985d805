"""A balanced, seeded subset of a dataset's training images: "N images per class" for quick training loops.

100 images of each MNIST digit train LeNet-5 in seconds, so a learner can try
ten ideas in the time one full run takes. The subset is balanced (every class
gets the same number, or all it has when it has fewer) and seeded (the same
seed picks the same images), so two runs on "100 per class" see the same data.
The test set is kept whole: accuracy is still measured on every test image.
"""
import dataclasses

import numpy as np


def balanced_indices(labels, per_class, seed=0):
    """Indices of ``per_class`` items of each class (all of a class that has fewer), shuffled, seeded.

    Args:
        labels: class indices (N,).
        per_class: how many of each class to keep; a positive int.
        seed: the same seed picks the same indices.

    Raises:
        ValueError: ``per_class`` not a positive int.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise ValueError(f"per_class must be a positive number of images, got {per_class!r}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return rng.permutation(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def sample_indices(total, n, seed=0):
    """Sorted indices of ``n`` of ``total`` items drawn with ``seed``; all of them (``arange``) when ``n`` is
    None, 0 or at least ``total``.

    The Lab's pages measure on a sample of the test set: one seed gives every
    model and every page the same images, so their figures compare.
    """
    if not n or n >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, n, replace=False))


def per_class(ds, n, seed=0):
    """``ds`` with at most ``n`` training images of each class, chosen by ``balanced_indices``.

    The test set is unchanged. The result says what it is in ``subset`` (and so in
    ``describe()``), so a subset is never mistaken for the full training set.

    Args:
        ds: a ``Dataset``.
        n: images kept per class (a class with fewer keeps all it has).
        seed: the same seed gives the same subset.

    Returns:
        A new ``Dataset``; ``ds`` is not changed.
    """
    keep = np.sort(balanced_indices(ds.y_train, n, seed))   # the loader's own order, seeded choice
    counts = np.bincount(ds.y_train[keep], minlength=ds.num_classes)
    note = f"{len(keep):,} of {len(ds.x_train):,} training images: {n:,} per class, seed {seed}"
    short = [ds.class_names[c] for c in np.flatnonzero(counts < n)]
    if short:
        note += f" (fewer in {_listing(short)}: all they have)"
    return dataclasses.replace(ds, x_train=ds.x_train[keep], y_train=ds.y_train[keep], subset=note)


def _listing(names, shown=3):
    return ", ".join(map(str, names[:shown])) + (f" and {len(names) - shown} more" if len(names) > shown else "")

