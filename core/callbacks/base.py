"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens.

The GUI worker and the CLI progress line are both callbacks. A callback may
set ``self.model.stop_training = True``; training stops after that batch.
"""

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
