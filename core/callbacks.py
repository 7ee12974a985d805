"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens.

The GUI worker and the CLI progress line are both callbacks. A callback may
set ``self.model.stop_training = True``; training stops after that batch.
"""
import sys
import time


class Callback:
    model = None
    params = None   # {'epochs', 'steps', 'samples', 'batch_size'} set by fit

    def on_train_begin(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_end(self, logs=None): pass


class CallbackList:
    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            cb.model, cb.params = model, params

    def __getattr__(self, hook):
        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call


class History:
    """What ``fit`` returns: per-epoch metrics, and why training stopped early if it did."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stop_reason = None
        self.diverged = False

    def record(self, epoch, logs):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)


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
        self.acc = self.acc + logs["accuracy"] * n if "accuracy" in logs else None   # none for a regression
        now = time.perf_counter()
        if now - self.last >= self.every or batch + 1 == self.params["steps"]:
            self.last = now
            self._write(batch, now)

    def _write(self, batch, now, end=""):
        p = self.params
        rate = self.seen / max(now - self.start, 1e-9)
        eta = (p["samples"] - self.seen) / rate
        acc = "" if self.acc is None else f"acc {self.acc / self.seen:.4f}  "
        self.stream.write(f"\repoch {self.epoch + 1}/{p['epochs']}  batch {batch + 1}/{p['steps']}  "
                          f"loss {self.loss / self.seen:.4f}  {acc}"
                          f"{rate:,.0f} samples/s  ETA {format_eta(eta)}{end}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        extra = ""
        if "val_loss" in logs:
            extra = f"  val_loss {logs['val_loss']:.4f}"
        if "val_accuracy" in logs:
            extra += f"  val_acc {logs['val_accuracy']:.4f}"
        self.stream.write(f"  ({time.perf_counter() - self.start:.1f}s){extra}\n")
        self.stream.flush()
