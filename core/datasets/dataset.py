"""The ``Dataset`` every loader returns, and the one conversion of raw pixels to model input."""
from dataclasses import dataclass, field

import numpy as np

from ..layers.base import fmt_shape
from ..preprocess import mode_for_dataset


@dataclass(eq=False)
class Dataset:
    """Train and test arrays ready for ``Sequential.fit``, with what they mean and where they came from.

    Images are float32 (N, C, H, W) in [0, 1], labels int64 class indices.
    ``source`` is the folder or URL the data was read from, so a user can tell
    a download from a local copy. ``skipped`` lists files a loader could not
    read (name and reason), so a folder with one bad image still loads, and
    class folders kept as classes with no images (``load_folder(skip_empty=True)``).

    Attributes:
        name: the dataset's name ("mnist", a folder's name, ...).
        x_train: training images, float32 (N, C, H, W) in [0, 1].
        y_train: their labels, int64 class indices (N,).
        x_test: test images, as ``x_train``.
        y_test: their labels, as ``y_train``.
        class_names: one name per class, indexed by label.
        source: the folder or URL the data was read from.
        skipped: files not read and classes left empty, with the reason for each.
        preprocessing: the ``preprocess.prepare`` mode that makes any picture like these images
            (recorded in a model trained on them, for the draw pad and ``numpynet predict``); by
            default the one ``mode_for_dataset`` knows for ``name``.
        subset: what part of the training set this is ("1,000 of 60,000 training images: 100 per
            class, seed 0"), or "" for the whole of it (``per_class``).
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    class_names: list
    source: str
    skipped: list = field(default_factory=list, repr=False)
    preprocessing: str = None
    subset: str = ""

    def __post_init__(self):
        if self.preprocessing is None:
            self.preprocessing = mode_for_dataset(self.name)

    @property
    def input_shape(self):
        """(C, H, W) of one image: what ``Sequential(input_shape=...)`` needs."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self):
        """The number of classes (``len(class_names)``): the units of a classifier's last layer."""
        return len(self.class_names)

    def __len__(self):
        return len(self.x_train) + len(self.x_test)

    def describe(self):
        """One line for a status bar or a terminal."""
        part = f" ({self.subset})" if self.subset else ""
        return (f"{self.name}: {len(self.x_train):,} train / {len(self.x_test):,} test images{part}, "
                f"{fmt_shape(self.input_shape, 'x')}, {self.num_classes} classes, from {self.source}")


def to_images(pixels):
    """uint8 (N, H, W) or (N, C, H, W) pixels -> float32 (N, C, H, W) in [0, 1].

    Every loader of 8-bit arrays ends here, so they share one scaling; image
    files are scaled by their own format in ``images.read_image``.
    """
    x = np.asarray(pixels)
    if x.ndim == 3:
        x = x[:, None]
    out = x.astype(np.float32)
    out *= np.float32(1 / 255)
    return out


def to_labels(labels):
    return np.asarray(labels).astype(np.int64)
