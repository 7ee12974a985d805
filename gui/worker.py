"""Background work for the window: training (``TrainWorker``) and any other task (``TaskWorker``), on QThreads.

Qt's worker-object pattern: a QObject whose ``run`` slot is started on a
QThread, talking to the window only through signals (queued, so their slots
run on the GUI thread). Signals carry plain numbers and small arrays, never
the live model. Pause, resume and stop are ``threading.Event``s the worker
checks between batches (or inside a download's progress callback), because
the worker's own event loop is busy while ``run`` works. Every worker is a
``Worker`` and runs in a ``Job``, so closing the window can stop them all.
"""
import dataclasses
import threading
import time
import traceback

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core import datasets, optimizers
from core.callbacks import Callback
from core.dead_units import dead_units
from core.errors import NumpynetError
from core.recorder import describe

from .live_tuning import LiveKnobs
from .pacing import BATCH, EPOCH, MoreEpochs, OneRecord, Pace

STOPPED = "stopped by user"
SNAPSHOT_INTERVAL = 0.5    # seconds between weight snapshots: two a second, each copies every weight
PROGRESS_INTERVAL = 0.25   # the progress line and bar: four updates a second read calmly and cost little
BATCH_INTERVAL = 0.1      # batch metrics are sent at most 10 times a second, as rows (each batch plot refreshes ~3)
PROGRESS_EMIT_INTERVAL = 0.05   # a task's progress bar: 20 updates a second look smooth
TEST_CHUNK = 1000         # test images evaluated between two looks at the stop flag


def describe_exception(exc):
    """(message, details): what the user reads first, and the traceback behind it."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (NumpynetError, ValueError, OSError)):
        text = f"{type(exc).__name__}: {text}"
    return text, "".join(traceback.format_exception(exc))


def start_worker(worker, on_finished=None):
    """Move ``worker`` to a new QThread, run it, and end the thread when it says ``done``.

    The caller keeps both objects referenced until ``thread.finished``: a
    QThread collected while running aborts the process. ``on_finished`` is
    connected to ``thread.finished`` before the thread starts, so a run that
    ends at once is not missed. ``quit`` is called directly from the worker
    thread (it is thread-safe), so a GUI slot on ``done`` may ``thread.wait()``
    without waiting for a queued quit behind it.
    """
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit, Qt.DirectConnection)
    if on_finished is not None:
        thread.finished.connect(on_finished)
    thread.start()
    return thread


class Cancelled(Exception):
    """Raised where a worker looks at its stop flag inside a loop it does not own (a download's or an
    evaluation's progress callback): that is how a stop reaches the loop."""


class Worker(QObject):
    """What every background worker shares: a stop flag it reads between chunks, and ``done`` last.

    ``stop`` may be called from any thread; the work ends at its next look at
    the flag (a batch, a chunk of test images, a block of a download). ``done``
    is emitted at the end of every run, whatever happened; ``Job`` quits the
    thread on it.
    """
    done = Signal()

    def __init__(self):
        super().__init__()
        self._stop = threading.Event()

    def stop(self):
        self._stop.set()

    @property
    def stop_requested(self):
        return self._stop.is_set()

    def raise_if_stopped(self, what):
        if self._stop.is_set():
            raise Cancelled(f"{what} was cancelled")


class Job(QObject):
    """The one background job a panel runs: a worker on its own thread.

    ``start`` runs a worker; when its thread has really ended, ``worker`` and
    ``thread`` are cleared and ``on_done`` runs on the GUI thread. A job is a
    child of its panel so that the window finds every job (``findChildren``)
    when it closes: ``close`` asks the worker to stop and refuses new work,
    so no follow-up (a re-run, a refresh) starts a thread behind a closed window.
    """

    def __init__(self, parent, on_done=None):
        super().__init__(parent)
        self.worker = self.thread = None
        self.on_done = on_done
        self.closed = False

    @property
    def running(self):
        return self.thread is not None

    def start(self, worker):
        if self.closed:
            return
        self.worker = worker
        self.thread = start_worker(worker, self._on_thread_finished)

    def close(self):
        """Stop the worker and start no other: its window is going away."""
        self.closed = True
        if self.worker is not None:
            self.worker.stop()

    def wait(self, timeout_ms):
        """Wait up to ``timeout_ms`` for the thread to end; True when no thread is left running."""
        if self.thread is None:
            return True
        if not self.thread.wait(max(int(timeout_ms), 0)):
            return False
        self._ended(self.thread)
        return True

    def stop_and_wait(self, timeout_ms):
        """Stop the worker and wait for its thread; True when no thread is left running."""
        if self.worker is not None:
            self.worker.stop()
        return self.wait(timeout_ms)

    @Slot()
    def _on_thread_finished(self):
        self._ended(self.sender())   # None when that thread is gone: ``wait`` saw it end and let it go

    def _ended(self, thread):
        if thread is None or thread is not self.thread:
            return   # a late signal of a run ``wait`` already saw end; the job may run another by now
        thread.wait()  # 'finished' is emitted just before the thread really ends
        self.thread = self.worker = None
        if self.on_done is not None:
            self.on_done()


@dataclasses.dataclass
class TrainJob:
    """Everything one training run needs, fixed when Start is pressed."""
    dataset: object                      # what the model is trained on (names, for model.meta)
    x: object
    y: object
    epochs: int                          # to train in this run (fit gets initial_epoch + epochs, as Keras)
    batch_size: int
    optimizer: dict                      # core.optimizers config, e.g. {"type": "Adam", "lr": 1e-3}
    schedule: str = None                 # None, 'step', 'exponential', 'cosine'
    augment: object = None               # callable(x_batch, rng) -> x_batch
    validation_fraction: float = 0.0     # split off the training set by the worker
    test: tuple = None                   # (x, y) evaluated after a run that was not stopped
    seed: int = 0                        # shuffling and augmentation
    initial_epoch: int = 0               # epochs the model has already trained
    first_step: int = 0                  # batches already plotted, so steps continue
    recorder: object = None              # a core.runs.Recorder keeping this run (and its live changes), or None


class TrainWorker(Worker):
    batchesDone = Signal(object)    # float64 rows (global step, loss, accuracy, lr) since the last send
    epochDone = Signal(int, dict)                         # epoch (1-based, across runs), logs
    progress = Signal(int, int, int, int, float, float)   # epoch, epochs, batch, steps, samples/s, ETA s
    weightsSnapshot = Signal(dict, dict)                  # weights, grads: copies keyed '0.W'
    deadUnits = Signal(int, dict)   # with each snapshot: step, {activation's name: share of units dead on it}
    message = Signal(str)                                 # what the run is doing, for a status line
    tuned = Signal(object)          # a live change applied: {"kind", "step" it acts from, **changes}, in order made
    finished = Signal(dict, str)    # {'history', 'diverged', 'test'}, stop reason ('' = ran to the end)
    failed = Signal(str, str)       # message, details (traceback)

    def __init__(self, model, job):
        super().__init__()
        self.model, self.job = model, job
        self._resume = threading.Event()
        self._resume.set()
        self.step = job.first_step      # the last batch trained (read by tests and the GUI, written here)
        self.knobs = LiveKnobs(job.augment)
        self.pace = Pace()
        self.more = MoreEpochs()

    # --- called from the GUI thread ------------------------------------------------
    def pause(self):
        self._resume.clear()
        self.pace.wake.set()   # a slow-motion wait gives way

    def resume(self):
        self._resume.set()

    def stop(self):
        """Stop after the current batch (or test chunk); also wakes a paused or slowed run."""
        super().stop()
        self._resume.set()
        self.pace.wake.set()

    def step_one(self):
        """Train one batch, then pause: from a paused run, or before a run starts."""
        self.pace.ask_step()
        self.resume()

    def slow_motion(self, ms, per=BATCH):
        """Wait ``ms`` between batches (``per='batch'``) or epochs ('epoch'), from now on; 0 for full speed."""
        self.pace.set(ms, per)

    def add_epochs(self, n=1):
        """Train ``n`` more epochs in this run, after those planned; False when the run has already ended."""
        return self.more.add(n)

    def interrupted(self):
        """Whether a slow-motion wait should end now: Pause or Stop was pressed."""
        return self.paused or self.stop_requested

    @property
    def paused(self):
        return not self._resume.is_set()

    @property
    def watched(self):
        """Whether the learner looks at each batch as it ends (paused, stepping, stopping, slow motion): then
        each batch's row goes out at once, and the Training tab judges the loss at once."""
        return self.paused or self.stop_requested or self.pace.slow

    def tune(self, changes, augment=None):
        """Change hyper-parameters or augmentation from the next batch on (see ``gui.live_tuning``)."""
        self.knobs.request(changes, augment)

    # --- the worker thread -------------------------------------------------------------
    @Slot()
    def run(self):
        try:
            result, reason = self._train()
        except Exception as exc:  # noqa: BLE001 -- every failure must reach the window
            message, details = describe_exception(exc)
            if self.job.recorder is not None:
                self.job.recorder.abort(message)
            self.failed.emit(message, details)
        else:
            self.finished.emit(result, reason)
        finally:
            self.done.emit()

    def _train(self):
        job = self.job
        self._compile()
        x, y, validation = job.x, job.y, None
        if job.validation_fraction > 0:
            self.message.emit("Splitting off validation images…")
            # seed 0, not the run's: every run of this dataset holds out the same images
            x, y, xv, yv = datasets.split_validation(x, y, job.validation_fraction, seed=0)
            validation = (xv, yv)
        callbacks = [_Relay(self)]
        record = None
        if job.recorder is not None:   # fit sees only the switchable augment: the recorder is told what is in it
            job.recorder.settings.setdefault("augmentation", describe(job.augment))
            callbacks.append(record := OneRecord(job.recorder))
        history = self._fit_growing(x, y, validation, callbacks)
        if record is not None:
            record.end({"stop_reason": history.stop_reason, "diverged": history.diverged})
        if history.diverged:
            reason = history.stop_reason
        else:
            reason = STOPPED if self.stop_requested else ""
        test = {} if reason == STOPPED else self._evaluate_test()
        if test and job.recorder is not None:
            job.recorder.add_summary(**test)
        return {"history": history.history, "diverged": history.diverged, "test": test}, reason

    def _fit_growing(self, x, y, validation, callbacks):
        """``fit`` the job's epochs, then the epochs added meanwhile (``add_epochs``), one fit after the
        other as a continued run goes on (its optimizer's schedule included); one history for all."""
        job, model = self.job, self.model
        first, schedule, merged = job.initial_epoch, job.schedule, {}
        while True:
            history = model.fit(x, y, epochs=job.initial_epoch + job.epochs, batch_size=job.batch_size,
                                validation_data=validation, callbacks=callbacks, seed=job.seed,
                                lr_schedule=schedule, augment=self.knobs.augment, initial_epoch=first)
            for key, values in history.history.items():
                merged.setdefault(key, []).extend(values)
            going_on = not (history.diverged or history.stop_reason or self.stop_requested)
            more = self.more.claim(going_on)
            if not more:
                history.history = merged
                return history
            first, schedule = job.initial_epoch + job.epochs, model.optimizer.schedule
            job.epochs += more
            self.message.emit(f"Training {more} more epoch{'s' * (more != 1)}…")

    def _compile(self):
        """Keep the model's optimizer (and its momentum) when its settings did not change."""
        wanted = optimizers.from_config(self.job.optimizer)
        current = self.model.optimizer
        if current is None or current.get_config() != wanted.get_config():
            self.model.compile(wanted, self.model.loss or "crossentropy")

    def _evaluate_test(self):
        """Test loss and accuracy, in chunks so a stop request is honoured within one chunk."""
        if self.job.test is None:
            return {}
        x, y = self.job.test
        self.message.emit(f"Evaluating on {len(x):,} test images…")
        loss = acc = 0.0
        for i in range(0, len(x), TEST_CHUNK):
            if self.stop_requested:
                return {}
            part = self.model.evaluate(x[i:i + TEST_CHUNK], y[i:i + TEST_CHUNK])
            n = len(x[i:i + TEST_CHUNK])
            loss, acc = loss + part["loss"] * n, acc + part["accuracy"] * n
        return {"test_loss": loss / len(x), "test_accuracy": acc / len(x)}

    def wait_while_paused(self, stepped=False):
        """Block between two batches while paused; returns the seconds spent waiting."""
        if self._resume.is_set():
            return 0.0
        start = time.perf_counter()
        self.message.emit(f"Paused after one batch (step {self.step}): Step for the next, Resume to go on"
                          if stepped else "Paused")
        self._resume.wait()
        self.message.emit("Training…")
        return time.perf_counter() - start

    def apply_tuning(self):
        """Between two batches: apply the live changes waiting, and say so."""
        event = self.knobs.apply(self.model.optimizer, self.step + 1)
        if event is None:
            return
        if self.job.recorder is not None:
            self.job.recorder.event(**event)
        self.tuned.emit(event)

    def stretch_schedule(self):
        """Between two batches: a schedule that spans the run (cosine) spans the epochs added to it as well,
        from now on, so an added epoch does not train at the rate the schedule ends on (0 for cosine)."""
        added = self.more.take_new()
        schedule = self.model.optimizer.schedule
        if added and hasattr(schedule, "epochs"):
            schedule.epochs += added

    def send_snapshot(self):
        model = self.model
        weights = {k: v.copy() for k, v in model.get_weights().items()}
        grads = {f"{i}.{k}": g.copy() for i, layer in enumerate(model.layers) for k, g in layer.grads.items()}
        self.weightsSnapshot.emit(weights, grads)
        self.deadUnits.emit(self.step, dead_units(model))   # read from this batch's forward pass


class _Relay(Callback):
    """The worker's ears inside ``fit``: turns hooks into signals, honours pause and stop.

    Batch metrics go out in rows, at most every BATCH_INTERVAL: a small model
    trains a thousand batches a second, and a signal per batch would make the
    GUI thread take the interpreter from the trainer a thousand times a second.
    Rows are always sent before an epoch's end, a pause and the run's end, so
    the plots are complete whenever the trainer waits.
    """

    def __init__(self, worker):
        self.worker = worker
        self.rows = []
        self.last_rows = 0.0
        self.start = None    # when the run's first fit began

    def on_train_begin(self, logs=None):
        """Once per fit; a run that grew (``TrainWorker.add_epochs``) fits again and keeps its counts."""
        if self.start is None:
            self.start = self.last_progress = self.last_snapshot = time.perf_counter()
            self.paused_for = 0.0
            self.seen = 0
        self.total = self.params["samples"] * self.worker.job.epochs
        self.worker.message.emit("Training…")
        self.worker.apply_tuning()
        self.worker.stretch_schedule()
        self._check_stop()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        w = self.worker
        w.step += 1
        self.seen += logs["size"]
        self.rows.append((w.step, logs["loss"], logs["accuracy"], logs["lr"]))
        stepped = w.pace.take_step()
        if stepped:
            w.pause()
        now = time.perf_counter()
        last = batch + 1 == self.params["steps"]
        shown = w.watched
        if now - self.last_rows >= BATCH_INTERVAL or last or shown:
            self._send_rows(now)
        if now - self.last_progress >= PROGRESS_INTERVAL or last or shown:
            self.last_progress = now
            self._emit_progress(batch, now)
        if now - self.last_snapshot >= SNAPSHOT_INTERVAL or w.paused:
            self.last_snapshot = now
            w.send_snapshot()
        self._rest(BATCH, stepped)

    def on_epoch_end(self, epoch, logs=None):
        """``fit`` reports a stopped epoch's average over the batches it trained, as if it were whole:
        ``fraction`` says how much of it that was, so it is not plotted as a full epoch."""
        logs = {k: float(v) for k, v in logs.items()}
        fraction = self.model.cut_short(epoch + 1)
        if fraction is not None:
            logs["fraction"] = fraction
        self.worker.epochDone.emit(epoch + 1, logs)
        if epoch + 1 < self.params["epochs"]:   # slow motion between epochs; Pause and Stop act here too
            self._rest(EPOCH)

    def _rest(self, kind, stepped=False):
        """Slow motion and Pause between two batches (``kind`` BATCH) or epochs (EPOCH), then the changes made
        meanwhile, so that they act from the next batch, as the Training tab's marker says, then Stop.

        One place for both: the epoch's copy once applied its changes a batch late."""
        w = self.worker
        self.paused_for += w.pace.wait(kind, w.interrupted) + w.wait_while_paused(stepped)
        w.apply_tuning()
        w.stretch_schedule()
        self._check_stop()

    def on_train_end(self, logs=None):
        self._send_rows(time.perf_counter())   # a run that diverged mid-epoch still shows its batches

    def _send_rows(self, now):
        if self.rows:
            self.worker.batchesDone.emit(np.array(self.rows, dtype=np.float64))
            self.rows = []
        self.last_rows = now

    def _emit_progress(self, batch, now):
        """The rate counts training alone (pauses and slow motion left out); the ETA adds the slow-motion
        pauses still ahead, so a slowed run does not promise to end sooner than it will."""
        rate = self.seen / max(now - self.start - self.paused_for, 1e-9)
        job, steps = self.worker.job, self.params["steps"]
        epochs_left = job.initial_epoch + job.epochs - self.epoch - 1
        eta = (self.total - self.seen) / max(rate, 1e-9) + self.worker.pace.ahead(
            batches=epochs_left * steps + steps - batch - 1, epochs=epochs_left)
        self.worker.progress.emit(self.epoch - job.initial_epoch + 1, job.epochs, batch + 1, steps, rate, eta)

    def _check_stop(self):
        # fit resets stop_training when it starts, so a stop asked before that is re-applied here
        if self.worker.stop_requested:
            self.model.stop_training = True


def labelled(label, fn):
    """Task ``fn`` whose result comes as (``label``, result): what it was computed from travels with it.

    A job's result can arrive after the next job has started (``Job.wait`` saw
    the thread end while its ``finished`` signal was still queued), so a panel
    must file a result under its own label, never under what it runs now.
    """
    return lambda progress: (label, fn(progress))


class TaskWorker(Worker):
    """Runs one function ``fn(progress) -> result`` off the GUI thread, cancel-aware: the one mechanism
    for background work that is not training (loading a dataset, evaluating a model).

    ``fn`` reports with ``progress(done, total)``; that call is also where a stop
    reaches it (``Cancelled`` is raised there). A run asked to stop ends in
    ``cancelled``, never in ``finished`` or ``failed``: a function that never calls
    ``progress`` cannot be interrupted, so its result is dropped instead, and an
    error raised after the stop (a loader wrapping the ``Cancelled``) is not news.
    Progress is sent at most every PROGRESS_EMIT_INTERVAL, and always at the end.
    Connect the signals to slots of GUI-thread objects, never to lambdas: a lambda
    runs in the worker's thread.
    """
    progress = Signal(float, float)   # done, total (0 when unknown): floats, as a byte count outgrows a C int
    finished = Signal(object)         # what ``fn`` returned
    failed = Signal(str, str)         # message, details (traceback)
    cancelled = Signal()

    def __init__(self, fn):
        super().__init__()
        self._fn = fn
        self._last_emit = 0.0

    @Slot()
    def run(self):
        try:
            result = self._fn(self._progress)
        except Exception as exc:  # noqa: BLE001 -- shown to the user, never lost
            self._end_with(self.failed, *describe_exception(exc))
        else:
            self._end_with(self.finished, result)
        finally:
            self.done.emit()

    def _end_with(self, signal, *args):
        if self.stop_requested:
            self.cancelled.emit()
        else:
            signal.emit(*args)

    def _progress(self, done, total):
        self.raise_if_stopped("the task")
        now = time.perf_counter()
        if now - self._last_emit >= PROGRESS_EMIT_INTERVAL or (total and done >= total):
            self._last_emit = now
            self.progress.emit(float(done), float(total or 0))
