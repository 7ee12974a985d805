"""Which way a monitored quantity improves, shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau."""
import math
import warnings

from ..layers.args import is_number


class Monitor:
    """``logs[name]`` watched for improvement by more than ``min_delta``.

    ``mode`` 'min' or 'max', or 'auto' as Keras: 'max' when the name ends in
    'acc', 'accuracy' or 'auc' (any top-k accuracy included), else 'min'.
    """

    def __init__(self, owner, name, mode="auto", min_delta=0.0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not (is_number(min_delta) and math.isfinite(min_delta)):
            raise ValueError(f"{owner}: min_delta must be a finite number, got {min_delta!r}")
        if mode == "auto":
            mode = "max" if name.endswith(("acc", "accuracy", "auc")) else "min"
        self.owner, self.name, self.mode = owner, name, mode
        self.min_delta = abs(float(min_delta))
        self.worst = math.inf if mode == "min" else -math.inf

    def value(self, logs):
        """The monitored value in ``logs``, or None with a warning naming what there is."""
        value = (logs or {}).get(self.name)
        if value is None:
            warnings.warn(f"{self.owner} watches {self.name!r}, which the logs lack (they have "
                          f"{', '.join(sorted(logs or {})) or 'nothing'}): pass validation data for val_ names",
                          RuntimeWarning, stacklevel=3)
        return value

    def improves(self, value, reference):
        """True when ``value`` beats ``reference`` by more than ``min_delta`` (NaN never improves)."""
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta
