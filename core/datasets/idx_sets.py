"""MNIST-format datasets (mnist, fashion-mnist, kmnist): found on disk, else downloaded."""
from pathlib import Path

from ..errors import DatasetError
from ..layers.base import fmt_shape
from .dataset import Dataset, to_images, to_labels
from .download import Download, fetch_all
from .idx import load_idx
from .sources import cache_dir, search_dirs


def load_idx_set(source, root=None, download=True, progress=None):
    """Read the four IDX files of ``source`` from the first folder that has them all.

    Local files are checked by structure; downloads by the published md5.
    """
    folder, paths, partial = find_idx_set(source, root)
    origin = str(folder)
    if folder is None:
        if not download:
            raise DatasetError(_not_found(source, root, partial, "downloading was turned off"))
        paths, origin = _download(source, root, partial, progress)
    arrays = [load_idx(p) for p in paths]
    _check_pair(paths[0], arrays[0], paths[1], arrays[1], len(source.class_names))
    _check_pair(paths[2], arrays[2], paths[3], arrays[3], len(source.class_names))
    x_train, y_train, x_test, y_test = arrays
    return Dataset(source.name, to_images(x_train), to_labels(y_train), to_images(x_test),
                   to_labels(y_test), list(source.class_names), origin)


def find_idx_set(source, root=None):
    """(folder, paths, partial): the first searched folder holding all four files (gzip or
    plain), or (None, None, partial) with ``partial`` the folders that hold only some."""
    partial = []
    for folder in search_dirs(source.name, root):
        paths = [local_file(folder, f.name) for f in source.files]
        if all(paths):
            return folder, paths, partial
        if any(paths):
            partial.append(folder)
    return None, None, partial


def local_file(folder, name):
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _download(source, root, partial, progress):
    """Fetch the files the cache lacks; returns their paths and a description of the source."""
    folder = cache_dir(source.name)
    missing = [f for f in source.files if local_file(folder, f.name) is None]
    jobs = [Download(tuple(m + f"{f.name}.gz" for m in source.mirrors), folder / f"{f.name}.gz",
                     f.md5, f.size) for f in missing]
    try:
        urls = fetch_all(jobs, progress)
    except DatasetError as e:
        raise DatasetError(_not_found(source, root, partial, str(e))) from e
    mirrors = sorted({u.rsplit("/", 1)[0] + "/" for u in urls})
    origin = f"{', '.join(mirrors)} (kept in {folder})" if mirrors else str(folder)
    return [local_file(folder, f.name) for f in source.files], origin


def _not_found(source, root, partial, why):
    names = ", ".join(f"{f.name}.gz" for f in source.files)
    where = "\n  ".join(str(d) for d in search_dirs(source.name, root))
    text = (f"{source.name} is not on this computer and was not downloaded: {why}\n"
            f"Put {names} (gzip or plain) into one of:\n  {where}\n"
            f"or set NUMPYNET_DATA to a folder that holds {source.name}/.")
    if partial:
        text += "\nThese folders hold only some of the files: " + ", ".join(map(str, partial))
    return text


def _check_pair(images_path, images, labels_path, labels, classes):
    if images.ndim != 3:
        raise DatasetError(f"{images_path}: expected images (NxHxW), the header gives "
                           f"{fmt_shape(images.shape, 'x')}")
    if labels.ndim != 1:
        raise DatasetError(f"{labels_path}: expected labels (one dimension), the header gives "
                           f"{fmt_shape(labels.shape, 'x')}")
    if len(images) != len(labels):
        raise DatasetError(f"{Path(images_path).name} has {len(images):,} images but "
                           f"{Path(labels_path).name} has {len(labels):,} labels "
                           f"(in {Path(labels_path).parent}); the pair does not belong together")
    if len(labels) and labels.max() >= classes:
        raise DatasetError(f"{labels_path}: label {labels.max()} is out of range for "
                           f"{classes} classes")
