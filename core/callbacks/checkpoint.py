"""ModelCheckpoint: save the model every epoch, or only when it improves (Keras's meaning and defaults)."""
from ..saving import check_save_path
from .base import Callback
from .monitor import Monitor


class ModelCheckpoint(Callback):
    """Save the model (``model.save``: a folder) at the end of epochs.

    Args:
        filepath: the folder to save to; may hold ``str.format`` fields filled from
            the epoch (counted from 1, as Keras) and the logs:
            ``"ckpt/e{epoch:02d}-{val_loss:.3f}"``. The safe-save rules hold: it
            writes only where the path is absent, an empty folder or a saved
            model, never over anything else.
        monitor: the logs key compared when ``save_best_only``.
        save_best_only: save only when ``monitor`` improves on its best so far.
        mode: 'min', 'max' or 'auto' (from the name).
        verbose: 1 prints a line at each save.

    ``best`` holds the best value seen; ``last_saved`` the last folder written.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto"):
        self.filepath = str(filepath)
        self.monitor = Monitor("ModelCheckpoint", monitor, mode)
        self.verbose, self.save_best_only = verbose, bool(save_best_only)
        self.best, self.last_saved = self.monitor.worst, None

    def on_train_begin(self, logs=None):
        if "{" not in self.filepath:
            check_save_path(self.filepath)   # refuse a foreign folder before training, not after an epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self.monitor.value(logs)
            if current is None or not self.monitor.improves(current, self.best):
                return
            self.best = current
        path = self._path(epoch, logs)
        self.last_saved = self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"ModelCheckpoint: cannot fill {self.filepath!r} from epoch and logs "
                             f"{sorted(logs)}: {e}") from None
