"""A folder of class subfolders of images (any format Pillow reads) as a Dataset.

A bad file never stops the load: it is skipped, named in ``Dataset.skipped``
and in one warning, because a user's folder of photos always holds
something odd (a .DS_Store, a half-copied JPEG, a text note).

A class's label is always its folder's position in sorted order, so a class
folder left with no readable image cannot silently vanish and shift every
later label: it is an error, unless ``skip_empty=True`` keeps it as a class
with no images (and says so).
"""
import warnings
from pathlib import Path

import numpy as np

from ..errors import DatasetError, ImageFileError
from ..images import read_image, resize
from .dataset import Dataset, to_labels
from .folder_files import class_files, class_folders
from .folder_format import common_format
from .split import DEFAULT_TEST_FRACTION, stratified_indices


def load_folder(path, size=(28, 28), grayscale=True, test_fraction=DEFAULT_TEST_FRACTION, seed=0,
                skip_empty=False):
    """A ``Dataset`` of the images in ``path/<class>/*``, one class per subfolder.

    Images are resized to ``size``; ``size=None`` or ``grayscale=None`` follows
    the folder's own images (``common_format``: the most common size, capped,
    and colour if most pictures are). Class names are the subfolder names,
    sorted. They are split, stratified and seeded, into train and test.
    Pixels are scaled by their file's format (``images.read_image``). A file
    that cannot be read is skipped with a warning and listed in ``skipped``.

    Args:
        path: the folder holding one subfolder per class.
        size: (height, width) every image is resized to, in pixels; None: the images' usual size.
        grayscale: one channel (True) or three (False); None: as most of the images are.
        test_fraction: the share of each class held out as the test set.
        seed: seeds the split.
        skip_empty: keep a class folder without a readable image as a class with no images (its
            label unchanged, listed in ``skipped``) instead of refusing the folder.

    Returns:
        A ``Dataset`` named after the folder, images float32 (N, C, H, W) in [0, 1]; its
        ``preprocessing`` is "resize" (what was done here to every picture).

    Raises:
        DatasetError: no class folders, or a class folder without a readable image (unless
            ``skip_empty``), naming them.
        ValueError: a ``size`` that is not two positive ints.
    """
    if size is not None:
        _check_size(size)
    root = Path(path).expanduser()
    folders = class_folders(root)
    size, grayscale = _follow_images(root, size, grayscale)
    pixels, labels, skipped, empty = _read_classes(folders, root, size, 1 if grayscale else 3)
    if empty and (not skip_empty or not pixels):
        raise DatasetError(_empty_error(root, empty, bool(pixels)))
    if skipped or empty:
        warnings.warn(_skipped_message(root, skipped, empty), stacklevel=2)
    x, y = np.stack(pixels), np.asarray(labels)
    train, test = stratified_indices(y, test_fraction, seed)
    return Dataset(root.name, x[train], to_labels(y[train]), x[test], to_labels(y[test]),
                   [f.name for f in folders], str(root), skipped + empty, preprocessing="resize")


def _follow_images(root, size, grayscale):
    """(size, grayscale) with each None replaced by what the folder's images suggest; when no
    picture can be read, MNIST's, so that reading the files names each unreadable one."""
    if size is not None and grayscale is not None:
        return size, grayscale
    try:
        found_grey, found_size = common_format(root)
    except DatasetError:
        found_grey, found_size = True, (28, 28)
    return (found_size if size is None else size), (found_grey if grayscale is None else grayscale)


def _check_size(size):
    if not (isinstance(size, (tuple, list)) and len(size) == 2
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in size)):
        raise ValueError(f"load_folder: size must be (height, width) in pixels, got {size!r}")


def _read_classes(folders, root, size, channels):
    """(images, labels, unreadable files, class folders left without images); a class's label
    is its folder's position, whatever happens to the folders before it."""
    pixels, labels, skipped, empty = [], [], [], []
    for label, folder in enumerate(folders):
        unreadable = []
        images = _read_class(folder, root, size, channels, unreadable)
        if not images:
            empty.append(_empty_message(folder, root, label, unreadable))
        pixels += images
        labels += [label] * len(images)
        skipped += unreadable
    return pixels, labels, skipped, empty


def _read_class(folder, root, size, channels, unreadable):
    """The class's images as (C, H, W) float32 arrays; each file that cannot be read goes
    into ``unreadable`` as 'relative/path: reason'."""
    images = []
    for file in class_files(folder):
        try:
            images.append(resize(read_image(file, channels), size))
        except ImageFileError as e:
            unreadable.append(f"{file.relative_to(root)}: {e.reason}")
    return images


def _empty_message(folder, root, label, unreadable):
    content = f"all its files are unreadable: {_listing(unreadable)}" if unreadable else "it holds no files"
    return f"{folder.relative_to(root)}/: class {label} has no readable images ({content})"


def _empty_error(root, empty, others_readable):
    listed = "; ".join(empty)
    if not others_readable:
        return f"{root}: no readable images in any class folder: {listed}"
    return (f"{root}: {listed}. A class's label is its folder's position in sorted order, so an empty "
            f"class would shift every later label: add images, remove the folder, or pass "
            f"skip_empty=True to keep it as a class with no images")


def _skipped_message(root, skipped, empty):
    parts = [f"skipped {len(skipped)} unreadable file{'s' * (len(skipped) != 1)}: {_listing(skipped)}"
             ] if skipped else []
    parts += [f"{e}, kept as a class with no images" for e in empty]
    return f"{root}: " + ". ".join(parts)


def _listing(items, shown=5):
    return "; ".join(items[:shown]) + (f"; and {len(items) - shown} more" if len(items) > shown else "")
