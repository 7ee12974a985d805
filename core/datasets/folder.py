"""A folder of class subfolders of images (any format Pillow reads) as a Dataset.

A bad file never stops the load: it is skipped, named in ``Dataset.skipped``
and in one warning, because a user's folder of photos always holds
something odd (a .DS_Store, a half-copied JPEG, a text note).
"""
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DatasetError
from .dataset import Dataset, to_images, to_labels
from .split import DEFAULT_TEST_FRACTION, stratified_indices

_UNREADABLE = (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError)


def load_folder(path, size=(28, 28), grayscale=True, test_fraction=DEFAULT_TEST_FRACTION, seed=0):
    """Images of ``path/<class>/*`` resized to ``size`` (height, width); class names are the
    subfolder names, sorted. Split stratified and seeded into train and test."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; expected one subfolder of images per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: has no class subfolders; put each class's images in "
                           f"a subfolder named after the class")
    pixels, labels, names, skipped = [], [], [], []
    for folder in folders:
        images = _read_class(folder, root, size, grayscale, skipped)
        if images:
            labels += [len(names)] * len(images)
            names.append(folder.name)
            pixels += images
    if skipped:
        warnings.warn(_skipped_message(root, skipped), stacklevel=2)
    if not pixels:
        raise DatasetError(f"{root}: no readable images in {len(folders)} subfolders"
                           + (f" ({len(skipped)} files skipped)" if skipped else ""))
    x, y = np.stack(pixels), np.asarray(labels)
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)          # RGB: (N, H, W, 3) -> NCHW
    train, test = stratified_indices(y, test_fraction, seed)
    return Dataset(root.name, to_images(x[train]), to_labels(y[train]), to_images(x[test]),
                   to_labels(y[test]), names, str(root), skipped)


def _read_class(folder, root, size, grayscale, skipped):
    images = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            images.append(read_image(file, size, grayscale))
        except _UNREADABLE as e:
            skipped.append(f"{file.relative_to(root)}: {e or type(e).__name__}")
    return images


def read_image(path, size=(28, 28), grayscale=True):
    """One image file as a uint8 (H, W) or (H, W, 3) array of ``size`` (height, width)."""
    with Image.open(path) as image:
        image = image.convert("L" if grayscale else "RGB")
        image = image.resize((size[1], size[0]), Image.LANCZOS)
    return np.asarray(image, np.uint8)


def _skipped_message(root, skipped):
    shown = "; ".join(skipped[:5]) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else "")
    return f"{root}: skipped {len(skipped)} unreadable file{'s' * (len(skipped) != 1)}: {shown}"
