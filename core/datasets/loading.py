"""``load(name)``: the one entry point that knows which loader serves which dataset."""
from .idx_sets import load_idx_set
from .quickdraw import load_quickdraw
from .sources import IDX_SOURCES, QUICKDRAW
from .synthetic import NAME as SYNTHETIC, synthetic_digits


def names():
    """Every dataset ``load`` knows, in the order a menu should list them.

    Returns:
        A list of names: the IDX sets, "quickdraw" and "synthetic-digits".
    """
    return [*IDX_SOURCES, QUICKDRAW, SYNTHETIC]


def load(name, root=None, download=True, progress=None, **options):
    """Load dataset ``name`` as a ``Dataset``.

    IDX datasets (mnist, fashion-mnist, kmnist) and Quick, Draw! categories are
    looked for in ``root``, ``$NUMPYNET_DATA/<name>/``, the user cache and
    ``/usr/share/datasets/<name>/``, else downloaded into the cache (unless
    ``download`` is False) with ``progress(bytes_done, bytes_total)``.
    Local files are checked by structure, downloads by their published md5;
    a failed download leaves nothing a later run would trust.

    Args:
        name: "mnist", "fashion-mnist", "kmnist", "quickdraw" or "synthetic-digits" (any case,
            ``_`` for ``-``); ``names()`` lists them.
        root: a folder to look in first (holding the files, or ``<name>/`` with them).
        download: fetch missing files from the public mirrors (False: fail instead).
        progress: ``progress(bytes_done, bytes_total)`` called while downloading, or None.
        **options: for the loader: ``categories``, ``per_class``, ``seed``, ``test_fraction`` for
            quickdraw; ``n``, ``seed``, ``n_test`` for synthetic-digits. IDX datasets take none.

    Returns:
        A ``Dataset``: images float32 (N, 1, 28, 28) in [0, 1], labels int64, class names, source.

    Raises:
        DatasetError: the files are found nowhere and cannot be downloaded, or a file is truncated
            or foreign (the message names the file and what is wrong).
        ValueError: an unknown name.
        TypeError: options for a dataset that takes none.

    Example:
        >>> from core import datasets
        >>> data = datasets.load("mnist")
        >>> data.x_train.shape, data.x_train.dtype, data.y_train.dtype
        ((60000, 1, 28, 28), dtype('float32'), dtype('int64'))
        >>> data.class_names[:3], data.input_shape
        (['0', '1', '2'], (1, 28, 28))
    """
    key = str(name).strip().lower().replace("_", "-")
    if key in IDX_SOURCES:
        if options:
            raise TypeError(f"load({name!r}) takes no options, got {', '.join(options)}")
        return load_idx_set(IDX_SOURCES[key], root, download, progress)
    if key == QUICKDRAW:
        return load_quickdraw(root=root, download=download, progress=progress, **options)
    if key == SYNTHETIC:
        return synthetic_digits(**options)
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(names())} "
                     f"(or datasets.load_folder(path) for a folder of images)")
