"""EarlyStopping: stop when a monitored quantity has stopped improving (Keras's meaning and defaults)."""
from .base import Callback
from .monitor import Monitor


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the logs key to watch ('val_loss', 'loss', 'val_accuracy', ...).
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement after which training stops.
        mode: 'min', 'max' or 'auto' (from the name: accuracies rise, losses fall).
        baseline: training stops unless the quantity beats this within ``patience`` epochs.
        restore_best_weights: when it stops, put back the weights of the best epoch
            (as in Keras, only when it stops; a run that ends by itself keeps its last weights).
        start_from_epoch: epochs to wait before watching (a warm-up).
        verbose: 1 prints a line when it stops.

    Attributes after ``fit``: ``stopped_epoch`` (0 if it never stopped), ``best``, ``best_epoch``.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        self.monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        if not isinstance(patience, int) or patience < 0 or not isinstance(start_from_epoch, int) \
                or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: patience and start_from_epoch must be ints >= 0, "
                             f"got {patience!r}, {start_from_epoch!r}")
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = bool(restore_best_weights), start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.stop_reason = 0, 0, 0, None
        self.best, self.best_weights = self.monitor.worst, None

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor.value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _copy(self.model.get_weights())   # something to restore even if nothing improves
        self.wait += 1
        if self.monitor.improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _copy(self.model.get_weights())
            if self.baseline is None or self.monitor.improves(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self._stop(epoch)

    def _stop(self, epoch):
        self.stopped_epoch = epoch
        restore = self.restore_best_weights and self.best_weights is not None
        if restore:
            self.model.set_weights(self.best_weights)
        self.stop_reason = (f"EarlyStopping: {self.monitor.name} did not improve on {self.best:.4g} (epoch "
                            f"{self.best_epoch + 1}) for {self.wait} epoch{'s' * (self.wait != 1)}"
                            + ("; restored that epoch's weights" if restore else ""))
        self.model.stop_training = True
        if self.verbose:
            print(f"Epoch {epoch + 1}: {self.stop_reason}")


def _copy(weights):
    return {k: v.copy() for k, v in weights.items()}
