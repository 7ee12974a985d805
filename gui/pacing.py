"""How a run goes at a learner's pace: slow motion, one batch at a time, and epochs added on the way.

The GUI thread only sets these; the training thread reads them between two
batches (``gui.worker``), so the window never waits. Every wait is on an
event that Stop, Pause, Step and a new setting set, so none of them waits
for a slow-motion pause to run out.
"""
import threading
import time

from core.callbacks import Callback

BATCH, EPOCH = "batch", "epoch"   # where a slow-motion pause falls


class Pace:
    """Slow motion (``ms`` between batches or between epochs) and the one-batch step, thread-safe."""

    def __init__(self):
        self.ms, self.per = 0, BATCH
        self.wake = threading.Event()      # set to cut a wait short: stop, pause, a new setting
        self._step = threading.Event()     # one batch asked for: pause after it

    def set(self, ms, per=BATCH):
        """From any thread: pause ``ms`` milliseconds at every ``per`` boundary (0: full speed)."""
        if per not in (BATCH, EPOCH):
            raise ValueError(f"slow motion falls between batches or epochs, not {per!r}")
        self.ms, self.per = max(int(ms), 0), per
        self.wake.set()

    @property
    def slow(self):
        """Whether batches are paced: then each one is shown as it ends, not in rows."""
        return self.ms > 0 and self.per == BATCH

    def ahead(self, batches, epochs):
        """Seconds of slow-motion pauses still to come after ``batches`` more batches and ``epochs`` more
        epoch ends (for the ETA)."""
        return self.ms / 1000 * (batches if self.per == BATCH else epochs)

    def ask_step(self):
        """Train one batch, then pause (the caller resumes the run)."""
        self._step.set()
        self.wake.set()

    def take_step(self):
        """On the training thread, after a batch: True once for each step asked (time to pause)."""
        if not self._step.is_set():
            return False
        self._step.clear()
        return True

    def wait(self, where, interrupted):
        """Sleep this boundary's slow-motion pause; ``interrupted()`` (stop, pause) ends it at once.
        A setting changed meanwhile counts from the same start. Returns the seconds waited."""
        start = time.perf_counter()
        while not interrupted():
            self.wake.clear()
            left = self.ms / 1000 - (time.perf_counter() - start) if self.per == where else 0
            if left <= 0:
                break
            self.wake.wait(left)
        return time.perf_counter() - start


class MoreEpochs:
    """Epochs added to a running run (``add``), taken by the trainer when its planned ones end (``claim``).

    Once a run has claimed nothing at its end, it is over: a later ``add`` is refused (False), so an
    epoch asked for just as the run ended is never silently lost.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = 0
        self._new = 0          # added since ``take_new`` last looked: what the schedule's span lacks
        self._closed = False

    def add(self, n=1):
        with self._lock:
            if self._closed:
                return False
            self._waiting += n
            self._new += n
            return True

    def grow_span(self, n):
        """The run continues one that ended: the schedule's span grows by its ``n`` epochs, none is added."""
        with self._lock:
            self._new += n

    def take_new(self):
        """The epochs added since the last call (0 most of the time)."""
        with self._lock:
            n, self._new = self._new, 0
            return n

    def claim(self, going_on=True):
        """The epochs waiting, taken; 0 (and no more adding) when there are none or the run is not
        ``going_on`` (stopped or diverged): the run ends."""
        with self._lock:
            n, self._waiting = self._waiting, 0
            self._closed = n == 0 or not going_on
            return n if going_on else 0


class OneRecord(Callback):
    """A run's recorder seen through the fits of a run that grew: it begins with the first and ends
    only when the worker says (``end``), so epochs added on the way stay in the same recorded run."""

    def __init__(self, recorder):
        self.recorder = recorder
        self._begun = False

    def on_train_begin(self, logs=None):
        rec = self.recorder
        rec.model, rec.params = self.model, self.params
        if self._begun:
            rec.info["settings"]["epochs_planned"] = self.params["epochs"]
        else:
            self._begun = True
            rec.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.recorder.on_epoch_begin(epoch, logs)

    def on_batch_end(self, batch, logs=None):
        self.recorder.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.recorder.on_epoch_end(epoch, logs)

    def end(self, logs):
        """The run's last fit has ended: close the record (``logs`` as ``on_train_end`` takes them)."""
        self.recorder.on_train_end(logs)
