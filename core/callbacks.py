"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens.

The GUI worker and the CLI progress line are both callbacks. A callback may
set ``self.model.stop_training = True``; training stops after that batch.
"""
import sys
import time


class Callback:
    """Base of the objects ``fit`` reports to: override the hooks you need, the rest do nothing.

    ``fit`` sets ``model`` (the model being trained) and ``params`` (a dict
    of epochs, steps per epoch, samples and batch_size) before the first
    hook. A hook may set ``self.model.stop_training = True``: training then
    stops after the current batch and leaves the model usable.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])
        >>> model.fit(x, y, epochs=3, callbacks=[PrintLoss()])
    """

    model = None
    params = None   # {'epochs', 'steps', 'samples', 'batch_size'} set by fit

    def on_train_begin(self, logs=None):
        """Called once, before the first epoch.

        Args:
            logs: None.
        """

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch.

        Args:
            epoch: the epoch's number, from 0 (``initial_epoch`` when continuing).
            logs: None.
        """

    def on_batch_begin(self, batch, logs=None):
        """Called before each training batch.

        Args:
            batch: the batch's number within its epoch, from 0.
            logs: None.
        """

    def on_batch_end(self, batch, logs=None):
        """Called after each training batch's update.

        Args:
            batch: the batch's number within its epoch, from 0.
            logs: {"loss", "accuracy"} of that batch (before its update), its "size" and the "lr" it used.
        """

    def on_epoch_end(self, epoch, logs=None):
        """Called after each epoch (and its validation).

        Args:
            epoch: the epoch's number, from 0.
            logs: the epoch's mean "loss" and "accuracy", its last "lr", and "val_loss" and
                "val_accuracy" when ``fit`` has validation data.
        """

    def on_train_end(self, logs=None):
        """Called once, when training ends for any reason.

        Args:
            logs: {"stop_reason": why training stopped early, or None}.
        """


class CallbackList:
    """Several callbacks called as one: ``callbacks.on_epoch_end(epoch, logs)`` calls each in order.

    Args:
        callbacks: the callbacks (None for none).
        model: the model each one's ``model`` is set to.
        params: the dict each one's ``params`` is set to.
    """

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
    """What ``fit`` returns: per-epoch metrics, and why training stopped early if it did.

    Attributes:
        history: {metric: [one value per epoch]}, e.g. "loss", "accuracy", "lr", "val_loss".
        epoch: the epochs trained, in order.
        stop_reason: why training stopped before its last epoch (divergence, stop_training), else None.
        diverged: True when the divergence guard stopped the run.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stop_reason = None
        self.diverged = False

    def record(self, epoch, logs):
        """Append one epoch's metrics.

        Args:
            epoch: the epoch's number.
            logs: {metric: value} of that epoch.
        """
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)


def format_eta(seconds):
    """A duration as "m:ss", or "h:mm:ss" from an hour on; negative times read as 0:00.

    Args:
        seconds: the duration in seconds.
    """
    seconds = int(max(seconds, 0))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ProgressLine(Callback):
    """One live line on a terminal: epoch, batch, loss, accuracy, samples/s, ETA.

    ``fit(verbose=True)`` adds one. The line is rewritten in place (``\\r``) and
    ends with the epoch's time and validation figures.

    Args:
        stream: where to write; None for stderr.
        every: the least number of seconds between two rewrites of the line.
    """

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
