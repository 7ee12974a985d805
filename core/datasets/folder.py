"""A folder of class subfolders of images (any format Pillow reads) as a Dataset.

A bad file never stops the load: it is skipped, named in ``Dataset.skipped``
and in one warning, because a user's folder of photos always holds
something odd (a .DS_Store, a half-copied JPEG, a text note).
"""
import warnings
from pathlib import Path

import numpy as np

from ..errors import DatasetError, ImageFileError
from ..images import read_image, resize
from .dataset import Dataset, to_labels
from .split import DEFAULT_TEST_FRACTION, stratified_indices


def load_folder(path, size=(28, 28), grayscale=True, test_fraction=DEFAULT_TEST_FRACTION, seed=0):
    """Images of ``path/<class>/*`` resized to ``size`` (height, width); class names are the
    subfolder names, sorted. Split stratified and seeded into train and test.

    Pixels are scaled by their file's format (``images.read_image``)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; expected one subfolder of images per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: has no class subfolders; put each class's images in "
                           f"a subfolder named after the class")
    pixels, labels, names, skipped = [], [], [], []
    for folder in folders:
        images = _read_class(folder, root, size, 1 if grayscale else 3, skipped)
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
    train, test = stratified_indices(y, test_fraction, seed)
    return Dataset(root.name, x[train], to_labels(y[train]), x[test], to_labels(y[test]), names, str(root),
                   skipped)


def _read_class(folder, root, size, channels, skipped):
    """The class's images as (C, H, W) float32 arrays; each file that cannot be read goes
    into ``skipped`` as 'relative/path: reason'."""
    images = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            images.append(resize(read_image(file, channels), size))
        except ImageFileError as e:
            reason = str(e).removeprefix(f"{file}: ")
            skipped.append(f"{file.relative_to(root)}: {reason}")
    return images


def _skipped_message(root, skipped):
    shown = "; ".join(skipped[:5]) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else "")
    return f"{root}: skipped {len(skipped)} unreadable file{'s' * (len(skipped) != 1)}: {shown}"
