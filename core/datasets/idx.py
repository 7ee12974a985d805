"""IDX files (the MNIST format), gzip or plain, read and checked in one place.

An IDX file is a 4-byte magic number (0, 0, type, ndim), ndim big-endian
uint32 sizes, then the bytes. Only unsigned bytes (type 0x08) are used by the
datasets here. Files found on disk are trusted only after this structure
check: the copies people keep are often re-compressed, so their md5 differs.
"""
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..layers.base import fmt_shape

_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def load_idx(path):
    """Read one IDX file (gzip or plain) into a uint8 array of the shape its header gives.

    Args:
        path: the file (gzip-compressed when it ends in .gz).

    Returns:
        A uint8 array, e.g. (60000, 28, 28) for MNIST's training images, (60000,) for its labels.

    Raises:
        DatasetError: naming the file and what is wrong with it: missing, empty, not gzip when it
            says so, wrong magic, truncated, or too long.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), path)


def parse_idx(data, path="<bytes>"):
    """Check the header against the length and return the array (a view on ``data``)."""
    dims = _header(data, path, len(data))
    offset = 4 + 4 * len(dims)
    expected = math.prod(dims)     # Python ints: a header of 2^32-1 sizes must not wrap around
    actual = len(data) - offset
    shape = fmt_shape(dims, "x")
    if actual < expected:
        raise DatasetError(f"{path}: truncated: the header promises {shape} = {expected:,} bytes "
                           f"of data but the file has {actual:,}. Delete it and download again.")
    if actual > expected:
        raise DatasetError(f"{path}: {actual - expected:,} unexpected bytes after the {shape} data; "
                           f"this is not a valid IDX file")
    return np.frombuffer(data, np.uint8, expected, offset).reshape(dims)


def read_shape(path):
    """The array shape a file's header announces, reading only the header (for catalogues)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
    try:
        opener = gzip.open if head == _GZIP_MAGIC else open
        with opener(path, "rb") as f:
            data = f.read(4 + 4 * 4)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: not a readable gzip stream ({e})") from e
    return _header(data, path, None)


def _header(data, path, total):
    if len(data) == 0:
        raise DatasetError(f"{path}: the file is empty")
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header")
    zero1, zero2, dtype, ndim = data[:4]
    if zero1 or zero2 or not 1 <= ndim <= 4:
        raise DatasetError(f"{path}: wrong magic number 0x{bytes(data[:4]).hex()}; "
                           f"not an IDX file (expected 0x000008NN)")
    if dtype != _UBYTE:
        raise DatasetError(f"{path}: IDX data type 0x{dtype:02x} is not supported; "
                           f"only unsigned bytes (0x08) are")
    if len(data) < 4 + 4 * ndim:
        raise DatasetError(f"{path}: truncated inside the header ({len(data)} bytes)")
    return tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))


def _read_bytes(path):
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e})") from e
    if raw[:2] != _GZIP_MAGIC:
        if path.suffix == ".gz" and raw:
            raise DatasetError(f"{path}: named .gz but it is not gzip-compressed")
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt or truncated gzip stream ({e}). "
                           f"Delete it and download again.") from e
