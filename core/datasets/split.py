"""Seeded, stratified splits: every class keeps its share on both sides."""
import numpy as np

DEFAULT_TEST_FRACTION = 0.2


def stratified_indices(labels, fraction, seed=0):
    """(keep, held): index arrays, ``held`` taking about ``fraction`` of each class.

    Each class keeps at least one sample on the ``keep`` side. Both come
    back shuffled (seeded), so the first few images show every class.
    """
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    keep, held = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_held = min(int(round(len(members) * fraction)), len(members) - 1)
        held.append(members[:n_held])
        keep.append(members[n_held:])
    keep = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    held = np.concatenate(held) if held else np.zeros(0, np.int64)
    return rng.permutation(keep), rng.permutation(held)


def split_validation(x, y, fraction=0.1, seed=0):
    """(x_train, y_train, x_val, y_val): hold out ``fraction`` of each class for validation.

    Each class keeps at least one sample for training; both parts come back
    shuffled (seeded).

    Args:
        x: the images.
        y: their labels, class indices (N,) or one-hot rows (N, K).
        fraction: about this share of each class is held out.
        seed: seeds the choice and the order.

    Raises:
        ValueError: x and y of different lengths.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} inputs but {len(y)} labels")
    keep, held = stratified_indices(y, fraction, seed)
    return x[keep], y[keep], x[held], y[held]
