"""What the known datasets are and where to look for them.

One table: names, file names, public mirrors, published md5s and sizes of
the downloads, class names. Tests swap entries (``dataclasses.replace``) to
point the real downloader at a local server. Also the search order of
folders, which the loaders, the catalogue and the error messages share.
"""
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Where system packages put datasets (Debian's dataset-fashion-mnist uses the first).
SYSTEM_DIRS = [Path("/usr/share/datasets")]


@dataclass(frozen=True)
class IdxFile:
    name: str        # standard file name without .gz
    md5: str         # published md5 of the .gz on the mirrors
    size: int        # bytes of the .gz on the mirrors (progress totals, catalogue)


@dataclass(frozen=True)
class IdxSource:
    """A dataset distributed as four IDX files (train/test images/labels)."""

    name: str
    title: str
    mirrors: tuple          # base URLs tried in turn, each ending in '/'
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile
    class_names: tuple
    counts: tuple = (60000, 10000)

    @property
    def files(self):
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


def _files(md5s, sizes):
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    return [IdxFile(n, m, s) for n, m, s in zip(names, md5s, sizes)]


IDX_SOURCES = {
    "mnist": IdxSource(
        "mnist", "MNIST handwritten digits",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/",
         "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        *_files(("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                 "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
                (9912422, 28881, 1648877, 4542)),
        tuple("0123456789")),
    "fashion-mnist": IdxSource(
        "fashion-mnist", "Fashion-MNIST clothing (Zalando Research)",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        *_files(("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                 "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
                (26421880, 29515, 4422102, 5148)),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "kmnist": IdxSource(
        "kmnist", "Kuzushiji-MNIST cursive Japanese (ROIS-DS CODH)",
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        *_files(("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
                 "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
                (18165135, 29497, 3041136, 5120)),
        # One hiragana per row of the syllabary, with its reading for fonts without kana.
        ("お (o)", "き (ki)", "す (su)", "つ (tsu)", "な (na)",
         "は (ha)", "ま (ma)", "や (ya)", "れ (re)", "を (wo)")),
}

QUICKDRAW = "quickdraw"
# Category files are <category>.npy under this URL (spaces URL-encoded); no md5s are published.
QUICKDRAW_MIRRORS = ("https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap/",)
QUICKDRAW_DEFAULT_CATEGORIES = ("cat", "bicycle", "flower")


def cache_root():
    """The user cache for numpynet: $NUMPYNET_CACHE, else the platform's cache folder."""
    override = os.environ.get("NUMPYNET_CACHE")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "numpynet" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numpynet"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numpynet"


def cache_dir(name):
    """Where downloads of dataset ``name`` are kept."""
    return cache_root() / name


def search_dirs(name, root=None):
    """Folders to look in for dataset ``name``, in order.

    ``root`` (when given, as ``root/<name>/`` and ``root`` itself), then
    ``$NUMPYNET_DATA/<name>/``, the user cache, and the system folders.
    """
    dirs = []
    if root is not None:
        dirs += [Path(root) / name, Path(root)]
    if os.environ.get("NUMPYNET_DATA"):
        dirs.append(Path(os.environ["NUMPYNET_DATA"]) / name)
    dirs.append(cache_dir(name))
    dirs += [Path(d) / name for d in SYSTEM_DIRS]
    return [d.expanduser() for d in dirs]
