"""The CLI's progress report: a live line on a terminal."""
import sys
import time

from .base import Callback


def format_eta(seconds):
    seconds = int(max(seconds, 0))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ProgressLine(Callback):
    """One live line on a terminal: epoch, batch, loss, accuracy, samples/s, ETA."""

    def __init__(self, stream=None, every=0.1):
        self.stream = stream or sys.stderr
        self.every = every

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.seen, self.loss, self.acc = epoch, 0, 0.0, 0.0
        self.start = self.last = time.perf_counter()

    def on_batch_end(self, batch, logs=None):
        n = logs["size"]
        self.seen += n
        self.loss += logs["loss"] * n
        self.acc += logs["accuracy"] * n
        now = time.perf_counter()
        if now - self.last >= self.every or batch + 1 == self.params["steps"]:
            self.last = now
            self._write(batch, now)

    def _write(self, batch, now, end=""):
        p = self.params
        rate = self.seen / max(now - self.start, 1e-9)
        eta = (p["samples"] - self.seen) / rate
        self.stream.write(f"\repoch {self.epoch + 1}/{p['epochs']}  batch {batch + 1}/{p['steps']}  "
                          f"loss {self.loss / self.seen:.4f}  acc {self.acc / self.seen:.4f}  "
                          f"{rate:,.0f} samples/s  ETA {format_eta(eta)}{end}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        extra = ""
        if "val_loss" in logs:
            extra = f"  val_loss {logs['val_loss']:.4f}  val_acc {logs['val_accuracy']:.4f}"
        self.stream.write(f"  ({time.perf_counter() - self.start:.1f}s){extra}\n")
        self.stream.flush()
