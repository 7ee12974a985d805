"""How many threads BLAS may use while numpynet trains, evaluates or predicts: one unless told otherwise.

OpenBLAS's threads spin while they wait for each other, so on a machine whose
cores are busy with anything else (the app's own GUI thread, another program)
a second thread makes each matrix product several times slower instead of
faster: ``benchmarks/train_speed.py --threads`` measured LeNet-5 training at
1,527 samples/s with one thread and 441 with two on this project's 2-core
machine, and PyTorch suffers the same. ``NUMPYNET_BLAS_THREADS=n`` lets a user
with idle cores choose more. The limit is set with threadpoolctl (the library
scikit-learn uses for this) and put back when the call returns.
"""
import functools
import os

from threadpoolctl import ThreadpoolController

ENV = "NUMPYNET_BLAS_THREADS"


@functools.cache
def _controller():
    """The BLAS libraries loaded (NumPy's); found once, since looking costs milliseconds."""
    return ThreadpoolController()


def count():
    """The BLAS threads numpynet computes with: ``$NUMPYNET_BLAS_THREADS``, else 1.

    Raises:
        ValueError: the variable is set to anything but a positive whole number, naming it.
    """
    text = os.environ.get(ENV, "1")
    if not (text.strip().isdigit() and int(text) > 0):
        raise ValueError(f"{ENV} must be a positive whole number of threads, got {text!r}")
    return int(text)


def limited(method):
    """Decorate a method so that BLAS uses ``count()`` threads while it runs.

    Args:
        method: the function to wrap; the caller's thread limit is back when it returns or raises.
    """
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _controller().limit(limits=count(), user_api="blas"):
            return method(*args, **kwargs)
    return wrapper
