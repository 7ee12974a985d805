"""The progress report of ``fit(verbose=...)`` and the CLI: a live line on a terminal, else a line per epoch."""
import sys
import time

from .base import Callback

VERBOSE = (0, 1, 2)


def format_eta(seconds):
    """A duration as "m:ss", or "h:mm:ss" from an hour on; negative times read as 0:00.

    Args:
        seconds: the duration in seconds.
    """
    seconds = int(max(seconds, 0))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def for_verbose(verbose, stream=None):
    """The progress callbacks of Keras's ``verbose``: 0 none, 1 a live line ('auto' and True too), 2 a line
    per epoch."""
    if verbose == "auto":
        verbose = 1
    if verbose not in VERBOSE:   # True == 1, False == 0
        raise ValueError(f"verbose must be 0 (silent), 1 (a progress line) or 2 (a line per epoch), got {verbose!r}")
    return [ProgressLine(stream, live=None if verbose == 1 else False)] if verbose else []


class ProgressLine(Callback):
    """Epoch, batch, loss, accuracy, samples/s, ETA; then the epoch's validation figures.

    ``live`` rewrites one line per epoch with ``\\r`` as batches go; else one
    finished line per epoch, for logs and pipes that ``\\r`` would fill with
    hundreds of updates. None: live only when the stream is a terminal.

    Args:
        stream: where to write; None for stderr.
        every: the least number of seconds between two rewrites of the live line.
        live: True for the live line, False for a line per epoch, None to ask the stream.
    """

    def __init__(self, stream=None, every=0.1, live=None):
        self.stream = stream or sys.stderr
        self.every = every
        self.live = _is_terminal(self.stream) if live is None else live

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.seen, self.loss, self.acc, self.batch = epoch, 0, 0.0, 0.0, 0
        self.start = self.last = time.perf_counter()

    def on_batch_end(self, batch, logs=None):
        n = logs["size"]
        self.seen += n
        self.loss += logs["loss"] * n
        self.acc = self.acc + logs["accuracy"] * n if "accuracy" in logs else None   # none for a regression
        self.batch = batch
        now = time.perf_counter()
        if self.live and (now - self.last >= self.every or batch + 1 == self.params["steps"]):
            self.last = now
            self.stream.write("\r" + self._line(now, eta=True))
            self.stream.flush()

    def _line(self, now, eta=False):
        p, elapsed = self.params, max(now - self.start, 1e-9)
        left = elapsed / (self.batch + 1) * (p["steps"] - self.batch - 1)
        acc = "" if self.acc is None else f"acc {self.acc / max(self.seen, 1):.4f}  "
        return (f"epoch {self.epoch + 1}/{p['epochs']}  batch {self.batch + 1}/{p['steps']}  "
                f"loss {self.loss / max(self.seen, 1):.4f}  {acc}"
                f"{self.seen / elapsed:,.0f} samples/s" + (f"  ETA {format_eta(left)}" if eta else ""))

    def on_epoch_end(self, epoch, logs=None):
        """Finish the live line with the epoch's time and validation figures; or write the whole line,
        whose ETA is then the run's: the epochs left at this epoch's pace.

        Args:
            epoch: the epoch's number, from 0.
            logs: the epoch's figures; those beside loss, accuracy and lr (validation, metrics) are written.
        """
        now = time.perf_counter()
        took = now - self.start
        if self.live:
            head = f"  ({took:.1f}s)"
        else:
            head = f"{self._line(now)}  ({took:.1f}s)  ETA {format_eta(took * (self.params['epochs'] - epoch - 1))}"
        extra = "".join(f"  {_short(k)} {v:.4f}" for k, v in logs.items() if k not in ("loss", "accuracy", "lr"))
        self.stream.write(f"{head}{extra}\n")
        self.stream.flush()


def _short(key):
    return key.replace("accuracy", "acc")


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
