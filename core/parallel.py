"""The threads numpynet computes with: its own, which sleep while they wait, and BLAS held to one.

OpenBLAS's threads spin while they wait for work, and so lose their core to
anything else that runs. With one other process spinning on this project's
2-core machine, ``benchmarks/train_speed.py --busy 1`` measured LeNet-5 at
1,866 samples/s on OpenBLAS's two threads against 3,515 on one, and vgg_mini
at 127 against 552; numpynet's own two threads gave 3,374 and 520. So inside
numpynet BLAS runs one thread, and numpynet splits the work itself among
helper threads: the chunks of a batch that Conv2D, Winograd and pooling
already loop over, the rows (or columns) of a large product, BatchNorm's and
ReLU's passes over blocks of rows, and an optimizer's update in stretches.
NumPy lets go of the interpreter inside matmul and its ufunc loops, so the
pieces run on separate cores; a thread with nothing to do sleeps on a lock.

``count()`` threads: ``$NUMPYNET_THREADS``, else the cores this process may
use. ``limited`` sets both for the length of a call (fit, evaluate, predict
and the ``*_on_batch`` calls) and puts the caller's settings back; outside
such a call everything runs on the calling thread alone.
"""
import contextlib
import functools
import os
import threading

import numpy as np
from threadpoolctl import ThreadpoolController

from . import placement

ENV = "NUMPYNET_THREADS"
MIN_SPLIT_FLOPS = 25e6   # under ~0.25 ms of work: a hand-off to a thread costs 0.025-0.17 ms here
MIN_SPLIT_ELEMENTS = 1 << 19   # the same for a few passes over an array of fewer floats (2 MB)
LONG_SUM_BLOCK = 512      # the inner length of one product of ``_long_sum_product``: the best of 256-4096 here
LONG_SUM_MAX_OUT = 1024   # results of up to 32 x 32 floats gain; 64 x 64 and larger already run at full speed

_local = threading.local()   # per thread: ``threads``, how many ways its work splits now; ``busy`` inside a run
_helpers = []           # numpynet's threads besides the caller's, made when first needed
_run_lock = threading.Lock()   # held by the one caller whose run the helpers are doing


@functools.cache
def _controller():
    """The BLAS libraries loaded (NumPy's); found once, since looking costs milliseconds."""
    return ThreadpoolController()


def count():
    """The threads numpynet computes with: ``$NUMPYNET_THREADS``, else the cores this process may use.

    Raises:
        ValueError: the variable is set to anything but a positive whole number, naming it.
    """
    text = os.environ.get(ENV)
    if text is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not (text.strip().isdigit() and int(text) > 0):
        raise ValueError(f"{ENV} must be a positive whole number of threads, got {text!r}")
    return int(text)


def limited(method, hold=False):
    """Decorate a method so that it computes on ``count()`` threads of numpynet's and one of BLAS's.

    Args:
        method: the function to wrap; the caller's settings are back when it returns or raises.
        hold: also keep the caller and each helper on a CPU of its own for the call (``pinned``).
    """
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        n = count()
        held = placement.caller_held(n) if hold else contextlib.nullcontext()
        with _controller().limit(limits=1, user_api="blas"), using(n), held:
            return method(*args, **kwargs)
    return wrapper


def pinned(method):
    """``limited``, with the caller and each helper on a CPU of its own for the call (``core.placement``).

    For inference: its short calls, after a rest, found the threads sharing
    one CPU (``mlp``'s prediction 5.97 -> 3.84 ms a pass this way). Training
    keeps the scheduler's placement, which lets a thread leave a CPU another
    program is busy on: with one spinning beside it (``train_speed.py --busy
    1``), LeNet-5 at batch 64 trained 18-20% slower pinned.

    Args:
        method: the function to wrap, as ``limited`` takes it.
    """
    return limited(method, hold=True)


@contextlib.contextmanager
def using(n):
    """Split the calling thread's work ``n`` ways until the block ends (``limited`` sets ``count()``).

    Each thread has its own count: the app's worker trains on two while the
    GUI thread, predicting for the draw pad, ends its own call undisturbed.

    Args:
        n: the number of threads, 1 for none besides the caller.
    """
    before = threads()
    _local.threads = n
    try:
        yield
    finally:
        _local.threads = before


def threads():
    """How many threads ``run`` spreads work over now: ``count()`` inside a ``limited`` call, else 1."""
    return getattr(_local, "threads", 1)


def run(tasks):
    """Call every zero-argument function in ``tasks`` and return their results, in order.

    The caller and ``threads() - 1`` helpers each take the next task not yet
    taken, in order, until none is left (``_Queue``). A thread that another
    program or the app's GUI thread keeps off its core, or a helper slow to
    wake, so takes fewer tasks instead of holding the others up at the end.
    Cut into fixed halves instead, the app trained LeNet-5 at a median 89% of
    headless ``fit`` (36 app runs of ``benchmarks/gui_responsiveness.py``),
    and at 94% this way (42, alternated).

    A task that itself calls ``run`` runs its own tasks inline: the helpers
    are already busy; so does a second caller while another thread's run has
    them (the app predicts on the GUI thread while its worker trains).

    Args:
        tasks: functions that touch disjoint outputs, so that any order gives the same result.

    Raises:
        Whatever a task raised (the first in task order), after every task has finished; a Ctrl+C in a task
        instead, once the tasks already taken have finished (none is taken after it).
    """
    parts = min(threads(), len(tasks))
    if parts <= 1 or getattr(_local, "busy", False) or not _run_lock.acquire(blocking=False):
        return [task() for task in tasks]
    try:
        queue = _Queue(tasks)
        helpers = _helpers_for(parts - 1)
        placement.place_helpers(helpers)
        for helper in helpers:
            helper.start(queue.drain)
        try:
            _run_inline(queue.drain)
        finally:
            _wait_all(helpers)   # every task ends before anything is raised
    finally:
        _run_lock.release()
    return queue.results()


class _Queue:
    """A run's tasks, handed out in order to whichever thread asks next; their results kept by position."""

    def __init__(self, tasks):
        self._tasks, self._next, self._lock = tasks, 0, threading.Lock()
        self._results, self._failed, self._interrupt = [None] * len(tasks), {}, None

    def drain(self):
        """Do the next task not yet taken until none is left; a task's exception is kept for ``results``.

        A failing task leaves the others to run. Ctrl+C (or an exit) in a task ends the hand-out: no thread
        takes another task, and the run stops as soon as the tasks already taken are done.
        """
        while (i := self._take()) < len(self._tasks):
            try:
                self._results[i] = self._tasks[i]()
            except Exception as e:   # noqa: BLE001 (raised by ``results``, once every task has finished)
                self._failed[i] = e
            except BaseException as e:   # noqa: BLE001 (Ctrl+C or an exit: raised by ``results``, first)
                self._failed[i] = self._interrupt = e
                with self._lock:
                    self._next = len(self._tasks)

    def _take(self):
        with self._lock:
            i, self._next = self._next, self._next + 1
        return i

    def results(self):
        """The tasks' results in order. Raises a Ctrl+C (or exit) a task met, else the exception of the first
        task in order that raised one."""
        if self._failed:
            raise self._interrupt or self._failed[min(self._failed)]
        return self._results


def _wait_all(helpers):
    """Wait for every helper, even through Ctrl+C, which is raised when all are done.

    A helper left running would still be taking tasks of a run its caller has left.
    """
    interrupt = None
    for helper in helpers:
        while True:
            try:
                helper.wait()
                break
            except KeyboardInterrupt as e:
                interrupt = e
    if interrupt is not None:
        raise interrupt


def _run_inline(work):
    _local.busy = True
    try:
        work()
    finally:
        _local.busy = False


class _Helper:
    """One of numpynet's threads: waits on a lock for a run's work, does it, and says so on another lock.

    A ``run`` of two empty tasks costs about 50 us here this way, against 95 us
    with concurrent.futures' queue and futures: the difference decides whether
    splitting a 0.5 ms product pays.
    """

    def __init__(self, name):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._work = None
        self.tid, started = None, threading.Event()   # the thread's native id: ``placement`` pins it by that
        self.cpus = None   # the CPUs ``placement`` last gave it (None: its creator's)
        threading.Thread(target=self._serve, args=(started,), name=name, daemon=True).start()
        started.wait()   # its id known before its first run, which may need it placed

    def start(self, work):
        self._work = work
        self._go.release()

    def wait(self):
        self._done.acquire()

    def _serve(self, started):
        self.tid = threading.get_native_id()
        started.set()
        while True:
            self._go.acquire()
            _run_inline(self._work)   # ``_Queue.drain`` keeps every task's exception for the caller
            self._work = None
            self._done.release()


def _helpers_for(n):
    while len(_helpers) < n:
        _helpers.append(_Helper(f"numpynet-{len(_helpers) + 1}"))
    return _helpers[:n]


def _forget_helpers():
    """In a forked child the helper threads do not exist: make new ones when needed."""
    global _run_lock
    _helpers.clear()
    _run_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_helpers)


def parts_for(work, least):
    """How many threads ``work`` is worth: one per ``least`` of it, at most ``threads()``.

    Two threads split anything of twice ``least`` or more; more threads, on a
    machine that has them, each get a part of at least ``least``, so a many-core
    machine does not cut a product into slivers that cost more to hand out
    than to compute.

    Args:
        work: the amount to share (floats, or multiply-adds), in the unit of ``least``.
        least: the smallest share worth a thread of its own.
    """
    if getattr(_local, "busy", False):
        return 1
    return max(1, min(threads(), int(work // max(least, 1))))


def flat_parts(size, least=1):
    """Slices of ``range(size)``, one per thread, each of at least ``least`` (``parts_for``).

    Args:
        size: the length to cut.
        least: the shortest slice worth a thread.
    """
    return _slices(size, parts_for(size, least))


def row_parts(x):
    """Blocks of ``x``'s rows, one per thread, each holding ``MIN_SPLIT_ELEMENTS / 2`` floats or more.

    Args:
        x: the array whose first axis is to be cut.
    """
    return _slices(len(x), max(1, min(len(x), parts_for(x.size, MIN_SPLIT_ELEMENTS // 2))))


def _slices(size, parts):
    return [slice(size * i // parts, size * (i + 1) // parts) for i in range(parts)]


def matmul(a, b, finish=None):
    """``a @ b`` of two matrices, in blocks of rows (or of columns, when they are more), one per thread.

    Each block is at least ``MIN_SPLIT_FLOPS / 2`` of work (``parts_for``).
    A small result summed over a long inner axis goes by ``_long_sum_product`` instead.

    Args:
        a: an (M, K) matrix, any strides BLAS takes (a transposed view is fine).
        b: a (K, N) matrix.
        finish: None, or ``finish(block, cols)`` to rewrite each block of the result in place (a bias and
            a fused ReLU), given the slice of columns it holds, on the thread that computed it.
    """
    finish = finish or _unchanged
    m, n = a.shape[0], b.shape[1]
    along_rows = m >= n
    parts = min(m if along_rows else n, parts_for(2.0 * m * a.shape[1] * n, MIN_SPLIT_FLOPS / 2))
    if _long_sum(a, b):
        out = _long_sum_product(a, b)
    elif parts <= 1:
        out = _product(a, b)
    else:   # each block finished by its own thread
        out = np.empty((m, n), np.result_type(a, b))
        blocks = [(part, slice(None)) if along_rows else (slice(None), part)
                  for part in _slices(m if along_rows else n, parts)]
        run([functools.partial(_product_block, a, b, out, rows, cols, finish) for rows, cols in blocks])
        return out
    finish(out, slice(None))
    return out


def _unchanged(block, cols):
    pass


def matmuls(*pairs):
    """``a @ b`` for each (a, b) of ``pairs``: each product whole on a thread of its own when they are as many as
    the threads and each worth a split, else one after another through ``matmul``.

    A dense layer's two gradients are two products of equal work; done side by
    side they wake a helper once instead of twice (0.025-0.17 ms each time),
    and each runs as one product, which BLAS does faster than two halves.

    Args:
        pairs: (a, b) matrices, as ``matmul`` takes them.
    """
    least = min(2.0 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in pairs)
    if len(pairs) != parts_for(least * len(pairs), MIN_SPLIT_FLOPS / 2) or any(_long_sum(a, b) for a, b in pairs):
        return [matmul(a, b) for a, b in pairs]
    return run([functools.partial(_product, a, b) for a, b in pairs])


def _product_block(a, b, out, rows, cols, finish):
    _product(a[rows], b[:, cols], out[rows, cols])
    finish(out[rows, cols], cols)


def _product(a, b, out=None):
    """``a @ b``, into ``out`` if given. An inner axis of 1 (a dense layer's weight gradient for a batch of one
    image) makes an outer product, which NumPy's matmul works out without BLAS: alexnet_mini's 2048 x 1024 took
    2.4-3.1 ms on one thread, against 0.35-0.5 ms by ``einsum`` (0.65-0.9 ms by broadcasting a product)."""
    if a.shape[1] == 1:
        return np.einsum("ik,kj->ij", a, b, out=out)
    return np.matmul(a, b, out=out)


def _long_sum(a, b):
    """Whether ``a @ b`` is a small result over a long inner axis, which ``_long_sum_product`` does faster."""
    return a.shape[0] * b.shape[1] <= LONG_SUM_MAX_OUT and a.shape[1] >= 8 * LONG_SUM_BLOCK


def _long_sum_product(a, b):
    """``a @ b`` for a small (M, N) result over a long K, as a sum of products over blocks of K.

    A weight gradient of a first convolution is such a product: 5 x 9 for
    cnn_small, 25 x 20 for LeNet-5, each summed over every pixel of the batch
    (K of 70,000-100,000). OpenBLAS runs those at 15-50 GFLOP/s on one
    thread; the same sum as a stack of K/512 products runs 2-3x faster (0.76
    -> 0.12 ms for cnn_small's at batch 128), and adds in shorter runs besides.
    The blocks are shared among the threads like any other split product.
    """
    m, k = a.shape
    n = b.shape[1]
    blocks = k // LONG_SUM_BLOCK
    parts = _slices(blocks, min(blocks, parts_for(2.0 * m * k * n, MIN_SPLIT_FLOPS / 2)))
    sums = run([functools.partial(_block_sums, a, b, part.start * LONG_SUM_BLOCK, part.stop * LONG_SUM_BLOCK)
                for part in parts])
    out = functools.reduce(np.add, sums)
    if blocks * LONG_SUM_BLOCK < k:   # the last, short block
        out += a[:, blocks * LONG_SUM_BLOCK:] @ b[blocks * LONG_SUM_BLOCK:]
    return out


def _block_sums(a, b, start, stop):
    """The sum over the blocks of K in [start, stop) of their products (reshaping views, not copies)."""
    m, n, count = a.shape[0], b.shape[1], (stop - start) // LONG_SUM_BLOCK
    stacked_a = a[:, start:stop].reshape(m, count, LONG_SUM_BLOCK).transpose(1, 0, 2)
    stacked_b = b[start:stop].reshape(count, LONG_SUM_BLOCK, n)
    return np.matmul(stacked_a, stacked_b).sum(axis=0)

