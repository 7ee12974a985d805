"""The image format a folder of pictures suggests: colour or grey, and a size that follows its images.

A user's own folder may hold 32x32 colour icons or 500x375 photos. Loading it
as grey 28x28 (MNIST's format) throws away the colour and distorts the shape;
loading photos at full size makes a NumPy network crawl. So the default
follows the images, read from their headers only (no pixels are decoded):
colour if most are colour, and the most common size, shrunk (keeping its
aspect ratio) to at most ``LARGEST`` pixels a side.
"""
from collections import Counter
from pathlib import Path

from PIL import Image

from ..errors import DatasetError
from .folder_files import class_files, class_folders

LARGEST = 64        # pixels a side: a small CNN in NumPy still trains on a laptop in minutes
LOOKED_AT = 400     # files read per folder at most, spread over the classes: enough to know the usual format
_GREY_MODES = ("1", "L", "LA", "La", "F")
_ROTATED = (5, 6, 7, 8)   # EXIF orientations that turn the picture by 90 degrees: width and height swap


def common_format(path, largest=LARGEST):
    """(grayscale, (height, width)): how most images in ``path/<class>/*`` are, the size capped at ``largest``.

    Files that are not pictures are passed over (``load_folder`` names them).

    Args:
        path: the folder holding one subfolder of images per class.
        largest: the most pixels a side of the size returned.

    Raises:
        DatasetError: no class folders, or no readable picture in them, naming the folder.
    """
    root = Path(path).expanduser()
    formats = [f for f in map(_header, _some_files(class_folders(root))) if f is not None]
    if not formats:
        raise DatasetError(f"{root}: no readable picture in its class folders")
    grey = sum(g for g, _ in formats) * 2 >= len(formats)
    size = Counter(s for _, s in formats).most_common(1)[0][0]
    return grey, capped(size, largest)


def capped(size, largest=LARGEST):
    """(height, width) shrunk to at most ``largest`` a side, keeping the aspect ratio (at least 1 pixel)."""
    h, w = size
    scale = min(1.0, largest / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def _some_files(folders):
    """Up to LOOKED_AT files, the same share from each class folder."""
    each = max(1, LOOKED_AT // len(folders))
    return [file for folder in folders for file in class_files(folder)[:each]]


def _header(file):
    """(grayscale, (height, width)) of a picture as ``images.read_image`` would read it, or None."""
    try:
        with Image.open(file) as img:
            rotated = img.getexif().get(0x0112) in _ROTATED
            w, h = img.size
            return _is_grey(img), (w, h) if rotated else (h, w)
    except Exception:  # noqa: BLE001 -- any undecodable file: load_folder reports it
        return None


def _is_grey(img):
    """Grey as ``images.from_pil`` reads it: a grey mode, 16-bit, or a palette of greys only."""
    if img.mode in _GREY_MODES or img.mode.startswith("I"):
        return True
    if img.mode == "P":
        palette = img.getpalette() or []
        return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))
    return False
