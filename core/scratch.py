"""Arrays a layer reuses from batch to batch instead of allocating them afresh.

A large NumPy array is a fresh ``mmap`` from the system, and writing it the
first time page-faults every 4 KiB of it: for the columns of a 3x3 convolution
on a 128-image batch (115 MB) that costs as much as the copy itself. A
``Scratch`` keeps each named array and hands out its leading rows, so a
smaller last batch fits in the buffer of a larger one. Only a layer's
internals live here, never what it returns: a caller may keep an output.
"""
import threading

import numpy as np


class Scratch:
    """Named arrays of one layer, kept between calls and grown when a batch needs more rows.

    Each thread has arrays of its own: ``predict`` runs pieces of a batch
    through the same layers on numpynet's threads at once (``core.parallel``).
    """

    def __init__(self):
        self._by_thread = {}

    def __len__(self):
        return sum(len(arrays) for arrays in list(self._by_thread.values()))

    @property
    def _arrays(self):
        return self._by_thread.setdefault(threading.get_ident(), {})

    def clear(self):
        """Let go of every array of every thread: the next call makes them afresh."""
        self._by_thread.clear()

    def get(self, name, shape, dtype, fill=None):
        """An array of ``shape`` and ``dtype``: the leading rows of the one kept under ``name``.

        Its contents are whatever the last call left there, except that a newly
        made array is filled with ``fill`` (when given): a caller that only ever
        writes the same inner region keeps the rest as ``fill`` for good.

        Args:
            name: which of the layer's arrays.
            shape: the shape wanted; only its first axis may differ from call to call.
            dtype: the dtype wanted; another dtype makes a new array.
            fill: the value a new array starts with; None leaves it uninitialised.
        """
        a = self._arrays.get(name)
        if a is None or a.dtype != dtype or a.shape[1:] != tuple(shape[1:]) or len(a) < shape[0]:
            a = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
            self._arrays[name] = a
        return a[:shape[0]]

    def column_sums(self, rows):
        """``rows.sum(axis=0)`` of a (rows, C) array as one matrix-vector product with a kept vector of ones.

        NumPy reduces a C-contiguous array along axis 0 a few columns at a time;
        BLAS does it in one streaming pass, 4-8x faster for the few channels of a
        bias or BatchNorm gradient.
        """
        return self.get("ones", (len(rows),), rows.dtype, fill=1) @ rows
