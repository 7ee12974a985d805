"""``load(name)``: the one entry point that knows which loader serves which dataset."""
from .idx_sets import load_idx_set
from .quickdraw import load_quickdraw
from .sources import IDX_SOURCES, QUICKDRAW
from .synthetic import NAME as SYNTHETIC, synthetic_digits


def names():
    """Every dataset ``load`` knows, in the order a menu should list them."""
    return [*IDX_SOURCES, QUICKDRAW, SYNTHETIC]


def load(name, root=None, download=True, progress=None, **options):
    """Load dataset ``name`` as a ``Dataset``.

    IDX datasets (mnist, fashion-mnist, kmnist) and Quick, Draw! categories are
    looked for in ``root``, ``$NUMPYNET_DATA/<name>/``, the user cache and
    ``/usr/share/datasets/<name>/``, else downloaded into the cache (unless
    ``download`` is False) with ``progress(bytes_done, bytes_total)``.
    ``options`` go to the loader: ``categories``, ``per_class``, ``seed``,
    ``test_fraction`` for quickdraw; ``n``, ``seed``, ``n_test`` for synthetic-digits.
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
