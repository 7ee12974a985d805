"""Quick, Draw! categories from the published 28x28 bitmap files (``<category>.npy``).

Each file is an (N, 784) uint8 array, light strokes on dark like MNIST. The
files are large (often 100 MB+), so they are memory-mapped and only the
sampled rows are read. No md5s are published: downloads are checked by
structure before they are kept.
"""
import urllib.parse

import numpy as np

from ..errors import DatasetError
from ..layers.base import fmt_shape
from .dataset import Dataset, to_images, to_labels
from .download import Download, fetch_all
from .sources import QUICKDRAW, QUICKDRAW_DEFAULT_CATEGORIES, QUICKDRAW_MIRRORS, cache_dir, search_dirs
from .split import DEFAULT_TEST_FRACTION, stratified_indices


def load_quickdraw(categories=None, per_class=10000, seed=0, test_fraction=DEFAULT_TEST_FRACTION,
                   root=None, download=True, progress=None):
    """Up to ``per_class`` drawings of each category (seeded sample), split stratified.

    Class names are the categories, in the order given.
    """
    categories = _check_categories(categories)
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    paths = {c: find_category(c, root) for c in categories}
    missing = [c for c, p in paths.items() if p is None]
    if missing:
        paths.update(_download(missing, root, download, progress))
    rng = np.random.default_rng(seed)
    pixels, labels = [], []
    for label, category in enumerate(categories):
        drawings = read_bitmaps(paths[category])
        rows = np.sort(rng.choice(len(drawings), min(per_class, len(drawings)), replace=False))
        pixels.append(np.asarray(drawings[rows]).reshape(-1, 28, 28))
        labels.append(np.full(len(rows), label))
    x, y = np.concatenate(pixels), np.concatenate(labels)
    train, test = stratified_indices(y, test_fraction, seed)
    folders = sorted({str(p.parent) for p in paths.values()})
    return Dataset(QUICKDRAW, to_images(x[train]), to_labels(y[train]), to_images(x[test]),
                   to_labels(y[test]), list(categories), ", ".join(folders))


def find_category(category, root=None):
    for folder in search_dirs(QUICKDRAW, root):
        path = folder / f"{category}.npy"
        if path.is_file():
            return path
    return None


def read_bitmaps(path):
    """The (N, 784) uint8 array of one category file, memory-mapped; DatasetError if it is not one."""
    try:
        drawings = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: not a readable .npy bitmap file ({e})") from e
    if not isinstance(drawings, np.ndarray) or drawings.dtype != np.uint8 \
            or drawings.ndim != 2 or drawings.shape[1] != 784:
        what = f"{drawings.dtype} {fmt_shape(drawings.shape)}" if isinstance(drawings, np.ndarray) else "an archive"
        raise DatasetError(f"{path}: expected an (N, 784) uint8 array of 28x28 bitmaps, found {what}")
    if len(drawings) == 0:
        raise DatasetError(f"{path}: holds no drawings")
    return drawings


def category_url(mirror, category):
    return mirror + urllib.parse.quote(f"{category}.npy")


def _download(categories, root, download, progress):
    folder = cache_dir(QUICKDRAW)
    if not download:
        raise DatasetError(_not_found(categories, root, "downloading was turned off"))
    jobs = [Download(tuple(category_url(m, c) for m in QUICKDRAW_MIRRORS), folder / f"{c}.npy",
                     check=read_bitmaps) for c in categories]
    try:
        fetch_all(jobs, progress)
    except DatasetError as e:
        raise DatasetError(_not_found(categories, root, str(e))) from e
    return {c: folder / f"{c}.npy" for c in categories}


def _not_found(categories, root, why):
    files = ", ".join(f"{c}.npy" for c in categories)
    where = "\n  ".join(str(d) for d in search_dirs(QUICKDRAW, root))
    return (f"Quick, Draw! {files} not on this computer and not downloaded: {why}\n"
            f"Download them from {QUICKDRAW_MIRRORS[0]} into one of:\n  {where}")


def _check_categories(categories):
    if categories is None:
        return list(QUICKDRAW_DEFAULT_CATEGORIES)
    if isinstance(categories, str):
        categories = [categories]
    categories = [str(c).strip() for c in categories]
    if not categories or not all(categories):
        raise ValueError("name at least one Quick, Draw! category, e.g. ['cat', 'bicycle', 'flower']")
    if len(set(categories)) != len(categories):
        raise ValueError(f"categories repeat: {categories}")
    bad = [c for c in categories if "/" in c or "\\" in c or c.startswith(".")]
    if bad:
        raise ValueError(f"not a category name: {bad[0]!r}")
    return categories
