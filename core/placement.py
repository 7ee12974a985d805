"""numpynet's threads kept each on a CPU of its own while an inference call computes (Linux).

A helper sleeps between runs (``core.parallel``), and after a rest Linux
woke it on its caller's CPU, or woke the caller on the helper's, and left
both there, taking turns, for about 50 ms before it moved one: predicting
2,000 images with ``mlp`` on two threads after half a second's rest took
5-7 ms a pass for the first eight to ten passes, as on one thread, then
3.3-4 ms. Pinning only the helpers did not help (5.8-6.2 ms, the median of
eight rests): the caller still came to rest on a helper's CPU. Both pinned,
every pass took 3.5-4.4 ms from the first. So an inference call
(``parallel.pinned``: ``predict``, ``evaluate``, ...) holds its caller on
the CPU it is on from its first run with helpers until it returns, then
gives it back its own CPUs, and each such run pins the helpers each to
another CPU of the caller's. Runs
outside such a call let the helpers run anywhere again: training keeps the
scheduler's placement, which moves a thread off a CPU another program is
busy on (``parallel.pinned`` has the figures). Where there is no CPU to
spare for each thread, or no way to ask (not Linux), the scheduler places
them as before.
"""
import contextlib
import ctypes
import functools
import os
import sys
import threading

_local = threading.local()   # per thread: ``holding`` inside ``caller_held``; ``cpus``, its own CPUs once held


def _own_cpus():
    """The CPUs the calling thread may run on; none where the system will not say (not Linux, a sandbox)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set()


_PROCESS_CPUS = sorted(_own_cpus())   # the importing thread's: any helper not held runs on these


@functools.cache
def _sched_getcpu():
    """libc's ``sched_getcpu`` (the CPU the calling thread runs on), or None where threads cannot be pinned."""
    if not (sys.platform.startswith("linux") and hasattr(os, "sched_setaffinity")):
        return None
    try:
        getcpu = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.argtypes, getcpu.restype = [], ctypes.c_int
    return getcpu


@contextlib.contextmanager
def caller_held(threads):
    """Within the block, hold the calling thread on its CPU from its first run with helpers; give it back its
    own CPUs when the block ends.

    A call that never hands work to a helper (one image, a small model) asks
    the system nothing: holding costs three system calls, about 11 us, and
    LeNet-5's one-image ``predict_on_batch`` ran 0.99-1.48x the time holding at
    every call (five alternated pairs of processes, 3,000 calls each).

    Args:
        threads: the threads the block computes with; with one there are no helpers to keep apart from.
    """
    if threads < 2 or _sched_getcpu() is None or getattr(_local, "holding", False):   # an outer call holds
        yield
        return
    _local.holding, _local.cpus = True, None
    try:
        yield
    finally:
        mine = _local.cpus
        _local.holding, _local.cpus = False, None
        if mine:
            _set(0, mine)


def place_helpers(helpers):
    """Inside ``caller_held``, hold the caller on its CPU and pin each helper to a CPU of its own other than
    the caller's; elsewhere let each helper run on any CPU the process could when it imported numpynet.

    Args:
        helpers: numpynet's helper threads, in the order they take CPUs: each with ``tid``, its native thread
            id, and ``cpus``, the CPUs it was last given (None until then: it has its creator's, maybe one).
    """
    if _sched_getcpu() is None or not helpers or not _PROCESS_CPUS:
        return
    holding = getattr(_local, "holding", False)
    if holding and _local.cpus is None:
        _hold_caller()
    held = _local.cpus if holding else ()
    others = [[c] for c in held if c != _sched_getcpu()()]
    wanted = others[:len(helpers)] if len(others) >= len(helpers) else [_PROCESS_CPUS] * len(helpers)
    for helper, cpus in zip(helpers, wanted):
        if helper.cpus != cpus:
            helper.cpus = cpus
            _set(helper.tid, cpus)


def _hold_caller():
    """Hold the calling thread on the CPU it runs on, keeping its own CPUs in ``_local.cpus`` to give back;
    () there when it is not held (one CPU already, by the user's choice, or the system refused)."""
    mine, cpu = _own_cpus(), _sched_getcpu()()
    _local.cpus = sorted(mine) if len(mine) > 1 and cpu in mine and _set(0, [cpu]) else ()


def _set(tid, cpus):
    """Let thread ``tid`` (0: the calling one) run on ``cpus`` only; False where the system refused."""
    try:
        os.sched_setaffinity(tid, cpus)
    except OSError:   # a CPU went offline, or the process's CPUs changed: the scheduler places it
        return False
    return True
