"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens.

The GUI worker and the CLI progress line are both callbacks. A callback may
set ``self.model.stop_training = True``; training stops after that batch.
"""

# Keras hooks that numpynet never calls: a callback defining one would wait for nothing.
UNCALLED = ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
            "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Receives ``fit``'s hooks; override the ones you need.

    As in Keras, ``fit`` calls ``on_train_batch_begin``/``on_train_batch_end``,
    whose default is to call ``on_batch_begin``/``on_batch_end``: override either
    name (overriding both, only the ``on_train_batch_*`` one runs unless it calls
    ``super()``). ``model`` and ``params`` ({'epochs', 'steps', 'samples',
    'batch_size'}; 'steps' and 'samples' are None when a generator has no length)
    are set by ``fit`` before ``on_train_begin``. A hook may set
    ``self.model.stop_training = True``: training then stops after the current
    batch and leaves the model usable.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])
        >>> model.fit(x, y, epochs=3, callbacks=[PrintLoss()])
    """
    model = None
    params = None

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
        """Called before each training batch (through ``on_train_batch_begin``).

        Args:
            batch: the batch's number within its epoch, from 0.
            logs: None.
        """

    def on_batch_end(self, batch, logs=None):
        """Called after each training batch's update (through ``on_train_batch_end``).

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

    def on_train_batch_begin(self, batch, logs=None):
        """Keras's name for ``on_batch_begin``, which it calls by default.

        Args:
            batch: the batch's number within its epoch, from 0.
            logs: None.
        """
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Keras's name for ``on_batch_end``, which it calls by default.

        Args:
            batch: the batch's number within its epoch, from 0.
            logs: as for ``on_batch_end``.
        """
        self.on_batch_end(batch, logs)


HOOKS = frozenset(name for name in vars(Callback) if name.startswith("on_"))


class CallbackList:
    """The callbacks of one ``fit``, called in order; refuses a callback with a hook that would never run.

    Args:
        callbacks: the callbacks (None for none).
        model: the model each one's ``model`` is set to.
        params: the dict each one's ``params`` is set to.
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks or [])
        self.model = model
        self.stopped_by = None   # the callback that set model.stop_training first
        for cb in self.callbacks:
            check_hooks(cb)
            cb.model, cb.params = model, params

    def __getattr__(self, hook):
        if hook not in HOOKS:
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                stopping = self.model.stop_training
                getattr(cb, hook)(*args, **kwargs)
                if self.model.stop_training and not stopping and self.stopped_by is None:
                    self.stopped_by = cb
        return call

    def stop_reason(self):
        """Why training stopped on request: the ``stop_reason`` of the callback that asked, else its name."""
        cb = self.stopped_by
        if cb is None:
            return "stopped on request (model.stop_training)"
        return getattr(cb, "stop_reason", None) or f"stopped by {type(cb).__name__} (model.stop_training)"


def check_hooks(callback):
    """ValueError for an ``on_*`` method ``fit`` never calls: a Keras test/predict hook, or a misspelt one.

    Silently never calling it would leave the user waiting for an effect that never comes.
    """
    owner = type(callback).__name__
    for name in dir(type(callback)):
        if not name.startswith("on_") or name in HOOKS or not callable(getattr(callback, name)):
            continue
        if name in UNCALLED:
            raise ValueError(f"callback {owner} defines {name}, a Keras hook numpynet's fit never calls "
                             f"(fit calls: {', '.join(sorted(HOOKS))})")
        raise ValueError(f"callback {owner} defines {name}, which is no callback hook: fit calls "
                         f"{', '.join(sorted(HOOKS))}")
    missing = [name for name in HOOKS if not callable(getattr(callback, name, None))]
    if missing:
        raise ValueError(f"callback {owner} lacks {', '.join(sorted(missing))}: derive it from "
                         f"core.callbacks.Callback")


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
