"""Writing IDX files for tests: the format the datasets module reads."""
import numpy as np


def idx_bytes(array):
    """An IDX file of uint8 ``array``: magic (0, 0, 0x08, ndim), big-endian sizes, data."""
    array = np.asarray(array, np.uint8)
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()
