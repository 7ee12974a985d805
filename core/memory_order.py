"""An array's axes in the order its memory runs: element-wise passes go along memory, not across it.

A convolution's output is a logical NCHW view of channels-last memory
(``core.conv_ops``). NumPy's element-wise loops follow the memory when they
can, but a mask drawn in logical order, or a pass over a column block, runs
its inner loop a few floats at a time. These functions give the order, and
the array as one flat run of memory where it is one.
"""
import numpy as np


def axes(x):
    """``x``'s axes from the outermost in memory (largest stride) to the innermost.

    Args:
        x: any array; equal strides keep their logical order.
    """
    return np.argsort(x.strides, kind="stable")[::-1] if x.ndim > 1 else np.arange(x.ndim)


def flat(x, like=None):
    """``x`` as a 1-D view of its memory in ``like``'s memory order, or None where that is not one run.

    Two arrays flattened along the same order (``flat(out, like=x)``) pair
    their elements as the logical arrays do.

    Args:
        x: any array.
        like: the array whose memory order to follow (``x`` itself when None).
    """
    if x.flags.c_contiguous and (like is None or like.flags.c_contiguous):
        return x.reshape(-1)   # the common case, without sorting strides (microseconds a call)
    if not _spans_its_size(x):
        return None            # gaps or overlaps: no order makes it one run (nor sorting strides to learn so)
    along = x.transpose(axes(x if like is None else like))
    return along.reshape(-1) if along.flags.c_contiguous else None


def _spans_its_size(x):
    """Whether ``x``'s memory, from its first element to its last, holds exactly its elements (with positive
    strides): what any order of a contiguous array does, and a slice with gaps does not."""
    if x.size == 0 or min(x.strides, default=1) <= 0:
        return x.size == 0
    return sum((n - 1) * s for n, s in zip(x.shape, x.strides)) + x.itemsize == x.nbytes
