"""Datasets: MNIST-format files, Quick, Draw! bitmaps, folders of images, synthetic digits.

Every loader returns a ``Dataset`` (float32 NCHW images in [0, 1], int64
labels, class names, where the data came from). See ``load`` for where files
are looked for and how downloads are kept trustworthy.
"""
from .catalog import catalog, catalog_text
from .dataset import Dataset
from .folder import load_folder
from .folder_format import common_format
from .idx import load_idx
from .loading import load, names
from .split import split_validation
from .stats import summarise
from .subset import per_class
from .synthetic import synthetic_digits

__all__ = ["Dataset", "load", "names", "load_idx", "load_folder", "synthetic_digits",
           "split_validation", "per_class", "common_format", "summarise", "catalog", "catalog_text"]
