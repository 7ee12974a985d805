"""Freed memory kept for the next batch: glibc's allocator told to reuse large blocks, not return them.

A training step allocates the same large arrays every batch (activations,
their gradients, Winograd's tiles: 6-30 MB each for vgg_mini at batch 128).
glibc serves blocks above its ``mmap`` threshold with fresh pages from the
kernel and gives them back when freed, and trims the top of its heap past a
second threshold; either way the next batch's arrays page-fault their memory
in again, and the kernel zeroes every page. vgg_mini at batch 128 on two
threads took 590-800 page faults and 10-19 ms of system time a step that way
(150-163 ms a step, fresh processes alternated). With both thresholds raised
the faults fell to under 1 a step, the system time to 4-9 ms and the step to
138-152 ms. Raising only one of them made it twice as slow:
either setting stops glibc adjusting the other, whose default (128 KB) then
sends every array to the kernel.

The price is that a process keeps what it freed, up to ``TRIM_THRESHOLD`` at
the top of its heap: memory a training run already needed at its peak.
Elsewhere than glibc (macOS, Windows, musl) nothing changes.
"""
import ctypes
import ctypes.util
import functools
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt's parameter numbers (glibc's malloc.h)
MMAP_THRESHOLD = 1 << 30     # blocks up to this size come from the heap and are reused
TRIM_THRESHOLD = (1 << 31) - 1   # free memory kept at the top of a heap: the most mallopt takes (an int)


@functools.cache
def keep_freed_memory():
    """Raise glibc's two thresholds, once per process; True when glibc took both.

    Importing ``core`` calls this, before any dataset or batch is allocated:
    raised only when fit began (after MNIST was loaded), vgg_mini at batch 128
    still took about 200 faults a step, against 0-40 raised first.
    """
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _glibc_mallopt():
    """glibc's ``mallopt``, or None on any other C library (it exists only there, with these numbers)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version"):   # glibc's own: musl's mallopt does nothing with these
        return None
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
