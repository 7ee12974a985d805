"""Reading a weights .npz without trusting it: array shapes from the headers first, arrays after.

``array_shapes`` reads only each member's .npy header, so an architecture
can be checked against the file before a single array is read or a layer
allocated. Nothing that runs code is ever loaded (``allow_pickle=False``).
Errors are ModelFileErrors that the caller prefixes with the file's path.
"""
import math
import zipfile

import numpy as np

from .errors import ModelFileError
from .layers.base import fmt_shape

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def array_shapes(file):
    """{key: shape} of the arrays in ``file`` (open, binary), from their headers; a header that lies is refused."""
    try:
        with zipfile.ZipFile(file) as archive:
            return dict(_header(archive, info) for info in archive.infolist())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
        raise ModelFileError(f"not a readable weights archive ({e})") from None


def _header(archive, info):
    key = info.filename.removesuffix(".npy")
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in _HEADER_READERS:
            raise ValueError(f"{key}: unsupported .npy version {version}")
        shape, _, dtype = _HEADER_READERS[version](f)
        data = info.file_size - f.tell()
    if dtype.hasobject:
        raise ModelFileError(f"{key} holds Python objects, which are never loaded")
    if dtype.kind not in "biuf":
        raise ModelFileError(f"{key} holds {dtype} values; weights are numbers")
    if data != dtype.itemsize * math.prod(shape):
        raise ValueError(f"{key}: its header claims shape {fmt_shape(shape)} of {dtype} but {data} bytes follow")
    return key, shape


def read_arrays(file):
    """{key: array} of ``file`` (open, binary), whose headers ``array_shapes`` has checked."""
    try:
        file.seek(0)
        with np.load(file, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
        raise ModelFileError(f"not a readable weights archive ({e})") from None
