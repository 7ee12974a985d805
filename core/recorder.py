"""``Recorder``: the callback that keeps a training run in its own folder as it trains.

The CLI, the app and API users all record the same way: pass a Recorder to
``fit``. Per-batch work is one formatted line appended to metrics.csv, with
a flush at most every second, so recording costs next to nothing beside a
training step; run.json is rewritten (atomically) at each epoch, event and
the end, and the model is saved at each epoch so a killed run can go on.
"""
import datetime
import os
import secrets
import time

from . import run_files as files
from .callbacks import Callback
from .errors import ModelFileError, RunError
from .model_json import to_json

FLUSH_SECONDS = 1.0   # at most this long between a batch and its row reaching the file
USER_FIELDS = ("name", "tags")   # edited by ``runs.rename``/``runs.tag`` while the run may still be going


def now_text():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def new_folder(root):
    """A fresh run folder under ``root``, named by a new id that sorts by creation time.

    A root that cannot hold it is a RunError naming the folder and the ways out, raised before any
    training, so the CLI and the app say the same thing and nothing is lost.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
            try:
                (root / run_id).mkdir()
                return run_id, root / run_id
            except FileExistsError:
                continue
    except OSError as exc:
        raise RunError(f"Cannot record this run in {root}: {exc.strerror or exc}. Make that folder writable, "
                       "or set NUMPYNET_RUNS to a folder that is (numpynet train also takes --no-record).") \
            from exc


def describe(part):
    """A schedule or augmentation as JSON: its config when it has one, else its name (None stays None)."""
    if part is None:
        return None
    if hasattr(part, "get_config"):
        return {"type": type(part).__name__, **part.get_config()}
    return getattr(part, "__name__", type(part).__name__)


class Recorder(Callback):
    """Record one ``fit`` as a run: settings, per-batch and per-epoch metrics, events, models, outcome.

    The run's folder (``runs.root()/run_id``) gets run.json (rewritten at each
    epoch, event and the end), metrics.csv (a row per batch, flushed at least
    every second), epochs.csv (a row per epoch), ``model/`` (saved at each
    epoch and at the end) and ``best/`` (the model of the best validation
    accuracy), so a killed run stays readable and can be continued.

    Args:
        name: a name for people (``runs.rename`` changes it later), or None.
        root: the folder of runs (default: ``runs.root()``).
        source: who trained: "api", "cli" or "app".
        parent: the id of the run this one continues, or None.

    Attributes:
        run_id: the run's id, known from construction, so a caller can show it before training.
        folder: the run's folder.
        settings: settings ``fit`` cannot know (the preset's name, the test set's size): update it
            before ``fit``; they join what the Recorder reads from the model and ``fit``.
        info: the run.json document as last written.

    Example:
        >>> from core import runs
        >>> recorder = runs.Recorder(name="baseline")
        >>> recorder.settings.update(preset="lenet5")
        >>> history = model.fit(x, y, epochs=2, seed=0, callbacks=[recorder])
        >>> runs.load(recorder.run_id).info["status"]
        'finished'
    """

    def __init__(self, name=None, root=None, source="api", parent=None):
        self.run_id, self.folder = new_folder(files.root(root))
        self.settings = {}
        self.info = {"id": self.run_id, "name": name, "status": "running", "source": source, "parent": parent,
                     "tags": [], "created": now_text(), "ended": None, "pid": os.getpid(),
                     "process_start": files.process_start(os.getpid()), "host": files.HOST,
                     "settings": {}, "epochs_done": 0, "events": [], "summary": {}}
        self._start = time.perf_counter()
        self._metrics = self._epochs = None
        self._best = None

    # ----- fit's hooks --------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._start = self._flushed = time.perf_counter()
        self.info.update(settings=to_json({**self._fit_settings(), **self.settings}),
                         epochs_done=self.params.get("initial_epoch", 0))
        self._metrics = self._open(files.METRICS_CSV, files.METRIC_COLUMNS)
        self._epochs = self._open(files.EPOCHS_CSV, files.EPOCH_COLUMNS)
        self._write_info()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        step = self._epoch * self.params["steps"] + batch + 1
        now = time.perf_counter()
        self._metrics.write(files.csv_row((step, self._epoch, batch, logs["loss"], logs["accuracy"], logs["lr"],
                                           round(now - self._start, 3))))
        if now - self._flushed >= FLUSH_SECONDS:
            self._metrics.flush()
            self._flushed = now

    def on_epoch_end(self, epoch, logs=None):
        seconds = round(self.elapsed(), 3)
        self._epochs.write(files.csv_row([epoch] + [logs.get(k) for k in files.EPOCH_COLUMNS[1:-1]] + [seconds]))
        self._epochs.flush()
        self._metrics.flush()
        improved = self._note_best(epoch, logs)
        self.info["epochs_done"] = epoch + 1
        fraction = self.model.cut_short(epoch + 1)
        if fraction is not None:    # stopped in mid-epoch: a run continued goes on from the next epoch
            self.info["cut_short"] = {"epoch": epoch + 1, "fraction": round(fraction, 4)}
        else:
            self.info.pop("cut_short", None)
        self.info["summary"].update(final=_metrics_of(logs, epoch), seconds=seconds)
        self._save(files.MODEL)
        if improved:
            self._save(files.BEST)
        self._write_info()

    def on_train_end(self, logs=None):
        logs = logs or {}
        reason = logs.get("stop_reason")
        status = "diverged" if logs.get("diverged") else "stopped" if reason else "finished"
        self._save(files.MODEL)   # again: a stop mid-epoch, the guard or EarlyStopping may have changed it
        self._finish(status, reason)

    # ----- for callers --------------------------------------------------------
    def event(self, kind, step, **details):
        """Note something that happened during the run in run.json's events, at once.

        Args:
            kind: what happened, e.g. "lr" for a learning rate changed by hand.
            step: the batch it applies from (metrics.csv's ``step``).
            **details: more JSON-able facts, e.g. ``old=0.05, new=0.01``.
        """
        self.info["events"].append(to_json({"kind": kind, "step": step, "time": round(self.elapsed(), 3),
                                            **details}))
        self._write_info()

    def add_summary(self, **figures):
        """Add figures measured after training to the run's summary in run.json.

        Args:
            **figures: e.g. ``test_accuracy=0.98, test_loss=0.06``.
        """
        self.info["summary"].update(to_json(figures))
        self._write_info()

    def abort(self, reason):
        """Mark the run interrupted, for a caller whose ``fit`` raised (fit then calls no ``on_train_end``).

        Args:
            reason: what went wrong, kept as the summary's ``stop_reason``.
        """
        self._finish("interrupted", reason)

    def elapsed(self):
        """Seconds since training began (metrics.csv's ``seconds``)."""
        return time.perf_counter() - self._start

    # ----- the files ------------------------------------------------------------
    def _fit_settings(self):
        model, p = self.model, self.params
        return {"dataset": model.meta.get("dataset"), "train_samples": p.get("samples"),
                "validation_samples": p.get("validation_samples"), "preset": model.meta.get("preset"),
                "architecture": model.get_config(), "parameters": model.count_params(),
                "optimizer": model.optimizer.get_config(), "loss": type(model.loss).__name__,
                "batch_size": p.get("batch_size"), "seed": p.get("seed"), "augmentation": describe(p.get("augment")),
                "schedule": describe(p.get("schedule")), "initial_epoch": p.get("initial_epoch", 0),
                "epochs_planned": p.get("epochs")}

    def _open(self, name, columns):
        """Append to a CSV file of the run, with its header when it is new."""
        f = open(self.folder / name, "a", encoding="utf-8")
        if f.tell() == 0:
            f.write(",".join(columns) + "\n")
        return f

    def _note_best(self, epoch, logs):
        """Whether validation accuracy beat every earlier epoch's (recorded in the summary as 'best')."""
        score = logs.get("val_accuracy")
        if score is None or self._best is not None and score <= self._best:
            return False
        self._best = score
        self.info["summary"]["best"] = _metrics_of(logs, epoch)
        return True

    def _save(self, name):
        """Save the model into the run; a failed save is an event, not the end of the training."""
        try:
            self.model.save(self.folder / name)
        except ModelFileError as e:
            self.info["events"].append({"kind": "save_failed", "step": None, "time": round(self.elapsed(), 3),
                                        "message": str(e)})

    def _finish(self, status, reason):
        for f in (self._metrics, self._epochs):
            if f is not None:
                f.close()
        self.info.update(status=status, ended=now_text())
        self.info["summary"].update(stop_reason=reason, seconds=round(self.elapsed(), 3))
        self._write_info()

    def _write_info(self):
        """Rewrite run.json, keeping a name or tags that ``runs.rename``/``runs.tag`` gave it meanwhile.

        Not before training begins: until then the folder holds no run, and ``runs.list`` skips it.
        """
        if self._metrics is None:
            return
        file = self.folder / files.RUN_JSON
        if file.exists():
            on_disk = files.read_json(file)
            self.info.update({k: on_disk[k] for k in USER_FIELDS if k in on_disk})
        files.write_json(file, self.info)


def _metrics_of(logs, epoch):
    return {"epoch": epoch, **{k: logs[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}}
