"""TrainWorker on a real QThread: signals, pause/resume, stop, failures, divergence, snapshots; Job."""
import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, Slot

from core import Sequential
from core.layers import Dense, Flatten, Softmax
from gui import worker as worker_mod
from gui.worker import STOPPED, Job, TrainJob, TrainWorker, Worker, start_worker

N, BATCH = 300, 30
STEPS = N // BATCH


def tiny_model():
    return Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)


def tiny_data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.3
    x[np.arange(n), 0, 2 * y + 1, :] += 0.7
    return x, y


def slow(seconds):
    """An augment that only waits: batches long enough to pause or stop in between."""
    def augment(x, rng):
        time.sleep(seconds)
        return x
    return augment


class Run(QObject):
    """Starts a worker on its thread and records what it says, on the GUI thread as the window would.

    (Bound methods of a GUI-thread QObject get queued calls; a plain lambda would run on the worker.)
    """

    def __init__(self, qtbot, model=None, pause_at=None, stop_at=None, **job):
        super().__init__()
        x, y = tiny_data()
        defaults = dict(dataset=None, x=x, y=y, epochs=2, batch_size=BATCH,
                        optimizer={"type": "SGD", "lr": 0.1, "momentum": 0.9})
        self.model = model or tiny_model()
        self.worker = TrainWorker(self.model, TrainJob(**{**defaults, **job}))
        self.steps, self.epochs, self.progress, self.snapshots, self.dead = [], [], [], [], []
        self.messages = []
        self.rates = {}            # step -> the learning rate it trained with
        self.result = self.failure = None
        self.pause_at, self.stop_at = pause_at, stop_at
        self.asked = None
        self.sends = 0
        w = self.worker
        w.batchesDone.connect(self.on_batches)
        w.epochDone.connect(self.on_epoch)
        w.progress.connect(self.on_progress)
        w.message.connect(self.on_message)
        w.weightsSnapshot.connect(self.on_snapshot)
        w.finished.connect(self.on_finished)
        w.failed.connect(self.on_failed)
        self.qtbot = qtbot
        self.thread = None

    def on_batches(self, rows):
        assert rows.ndim == 2 and rows.shape[1] == 4 and np.isfinite(rows).all()
        self.steps.extend(int(step) for step in rows[:, 0])
        self.rates.update(zip(rows[:, 0].astype(int), rows[:, 3]))
        self.sends += 1
        if self.pause_at is not None and self.steps[-1] >= self.pause_at and self.asked is None:
            self.asked = self.worker.step   # the trainer's own count when the request is made
            self.worker.pause()
        if self.stop_at is not None and self.steps[-1] >= self.stop_at and self.asked is None:
            self.asked = self.worker.step
            self.worker.stop()

    def on_epoch(self, epoch, logs):
        self.epochs.append((epoch, logs))

    def on_progress(self, *args):
        self.progress.append(args)

    def on_snapshot(self, weights, grads):
        self.snapshots.append((weights, grads))

    def on_message(self, text):
        self.messages.append(text)

    def on_dead(self, step, shares):
        self.dead.append((step, shares))

    def on_finished(self, result, reason):
        self.result = (result, reason)

    def on_failed(self, message, details):
        self.failure = (message, details)

    def start(self):
        self.thread = start_worker(self.worker)
        return self

    def wait(self, timeout=10_000):
        self.qtbot.waitUntil(lambda: self.thread.isFinished(), timeout=timeout)
        self.qtbot.waitUntil(lambda: self.result is not None or self.failure is not None, timeout=timeout)
        self.thread.wait()
        return self


def test_batch_epoch_and_progress_signals_arrive_in_order(qtbot):
    run = Run(qtbot).start().wait()
    assert run.failure is None
    assert run.steps == list(range(1, 2 * STEPS + 1))
    assert run.sends < len(run.steps), "a tiny model's batches go out together, not one signal each"
    assert [e for e, _ in run.epochs] == [1, 2]
    assert set(run.epochs[0][1]) >= {"loss", "accuracy", "lr"}
    epoch, epochs, batch, steps, rate, eta = run.progress[-1]
    assert (epoch, epochs, batch, steps) == (2, 2, STEPS, STEPS)
    assert rate > 0 and eta == pytest.approx(0, abs=1e-6)
    result, reason = run.result
    assert reason == "" and not result["diverged"]
    assert len(result["history"]["loss"]) == 2


def test_steps_continue_from_first_step_and_epochs_from_initial_epoch(qtbot):
    run = Run(qtbot, epochs=1, first_step=40, initial_epoch=3).start().wait()
    assert run.steps == list(range(41, 41 + STEPS))
    assert [e for e, _ in run.epochs] == [4]
    assert run.progress[-1][:2] == (1, 1)   # progress counts this run's epochs


class Rates(QObject):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_batches(self, rows):
        self.rates.extend(rows[:, 3])


def test_a_schedule_spans_the_run_of_a_model_that_trained_before(qtbot):
    """The Training panel's cosine for 2 epochs on a model trained for 12 starts at the typed rate and ends
    near zero at the run's end; it used to count the 12 earlier epochs and start 20x lower."""
    run = Run(qtbot, epochs=2, initial_epoch=12, schedule="cosine", optimizer={"type": "SGD", "lr": 0.01})
    rates = Rates()
    run.worker.batchesDone.connect(rates.on_batches)
    run.start().wait()
    assert [e for e, _ in run.epochs] == [13, 14]
    assert rates.rates[0] == pytest.approx(0.01)
    assert rates.rates == pytest.approx([0.005 * (1 + np.cos(np.pi * b / (2 * STEPS))) for b in range(2 * STEPS)])


def test_pause_holds_between_batches_and_resume_continues_without_gap(qtbot):
    run = Run(qtbot, epochs=3, augment=slow(0.01), pause_at=4)
    run.start()
    qtbot.waitUntil(lambda: run.worker.paused and len(run.steps) >= 4, timeout=5000)
    qtbot.wait(150)
    held = len(run.steps)
    qtbot.wait(300)
    assert len(run.steps) == held, "batches went on while paused"
    assert held <= run.asked + 1, "pause took effect later than one batch after it was asked"
    assert run.steps == list(range(1, held + 1)), "every batch before the pause is plotted"
    assert not run.thread.isFinished()
    run.worker.resume()
    run.wait()
    assert run.steps == list(range(1, 3 * STEPS + 1))
    assert run.result[1] == ""


def test_stop_mid_run_leaves_a_usable_model(qtbot):
    run = Run(qtbot, epochs=50, augment=slow(0.005), stop_at=7)
    run.start().wait()
    result, reason = run.result
    assert reason == STOPPED
    assert 7 <= len(run.steps) <= run.asked + 1
    assert all(np.isfinite(w).all() for w in run.model.get_weights().values())
    x, _ = tiny_data(20)
    p = run.model.predict(x)
    assert p.shape == (20, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)


def test_a_change_made_while_paused_at_an_epoch_end_acts_from_the_next_batch(qtbot):
    """A pause asked during an epoch's last batch or its validation lands at the epoch's end: a learning rate
    changed then acts from the next epoch's first batch, as after a pause between two batches (it acted one
    batch late, and the plot's marker put it a batch early)."""
    run = Run(qtbot, epochs=2)
    w = run.worker
    w.epochDone.connect(lambda epoch, _logs: epoch == 1 and w.pause(), Qt.DirectConnection)   # on the trainer's thread
    run.start()
    qtbot.waitUntil(lambda: "Paused" in run.messages, timeout=5000)
    held = w.step
    assert held == STEPS
    w.tune({"lr": 0.025})
    w.resume()
    run.wait()
    assert run.rates[held] == pytest.approx(0.1)
    assert [run.rates[s] for s in range(held + 1, 2 * STEPS + 1)] == pytest.approx([0.025] * STEPS)


def test_stop_while_paused_ends_the_thread(qtbot):
    run = Run(qtbot, epochs=50)
    run.worker.pause()
    run.start()
    qtbot.waitUntil(lambda: len(run.steps) == 1, timeout=5000)
    run.worker.stop()
    run.wait(timeout=2000)
    assert run.result[1] == STOPPED and run.steps == [1]


def test_exception_in_the_run_becomes_failed_with_a_traceback(qtbot):
    def broken(x, rng):
        raise RuntimeError("augment exploded")
    run = Run(qtbot, augment=broken).start().wait()
    message, details = run.failure
    assert message == "RuntimeError: augment exploded"
    assert "Traceback" in details and "broken" in details
    assert run.result is None


def blow_up_at(batch):
    """An augment that makes batch ``batch`` overflow the logits: its loss is inf, as a runaway rate gives."""
    calls = []

    def augment(x, rng):
        calls.append(1)
        return x * np.float32(1e38) if len(calls) == batch else x
    return augment


def test_a_diverging_run_reports_it_and_keeps_finite_weights(qtbot):
    run = Run(qtbot, augment=blow_up_at(4)).start().wait()
    result, reason = run.result
    assert result["diverged"] and "learning rate" in reason
    assert all(np.isfinite(w).all() for w in run.model.get_weights().values())


def test_test_set_is_evaluated_after_a_complete_run(qtbot):
    run = Run(qtbot, epochs=1, test=tiny_data(50, seed=1)).start().wait()
    test = run.result[0]["test"]
    assert 0 <= test["test_accuracy"] <= 1 and test["test_loss"] > 0


def test_weight_snapshots_are_copies_keyed_like_get_weights(qtbot, monkeypatch):
    monkeypatch.setattr(worker_mod, "SNAPSHOT_INTERVAL", 0.0)
    run = Run(qtbot, epochs=1).start().wait()
    assert len(run.snapshots) == STEPS
    weights, grads = run.snapshots[0]
    assert set(weights) == set(run.model.get_weights()) == {"1.W", "1.b"}
    assert set(grads) == {"1.W", "1.b"}
    assert weights["1.W"] is not run.model.layers[1].params["W"]
    assert not np.array_equal(weights["1.W"], run.snapshots[-1][0]["1.W"]), "snapshots must not alias"


def test_unchanged_optimizer_settings_keep_the_optimizer_state(qtbot):
    model = tiny_model()
    Run(qtbot, model=model, epochs=1).start().wait()
    optimizer = model.optimizer
    Run(qtbot, model=model, epochs=1, initial_epoch=1).start().wait()
    assert model.optimizer is optimizer
    Run(qtbot, model=model, epochs=1, optimizer={"type": "Adam", "lr": 1e-3}).start().wait()
    assert type(model.optimizer).__name__ == "Adam"


class Sleeper(Worker):
    """Works ``seconds``, looking at its stop flag every 10 ms."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    @Slot()
    def run(self):
        end = time.perf_counter() + self.seconds
        while time.perf_counter() < end and not self.stop_requested:
            time.sleep(0.01)
        self.done.emit()


def test_a_job_ignores_the_late_signal_of_a_run_it_waited_for_and_starts_nothing_once_closed(qtbot):
    """``wait`` sees a run end before its queued 'finished' arrives; by then the job may run the next
    one, which that late signal must not wait for (it would freeze the GUI thread until it ends)."""
    ended = []
    owner = QObject()
    job = Job(owner, on_done=lambda: ended.append(1))
    job.start(Sleeper(0))
    assert job.wait(5000) and ended == [1] and not job.running
    job.start(Sleeper(10))
    started = time.perf_counter()
    qtbot.wait(200)   # delivers the first run's 'finished'
    assert time.perf_counter() - started < 2 and job.running and ended == [1]
    job.close()
    assert job.wait(5000) and ended == [1, 1]
    job.start(Sleeper(0))
    assert not job.running, "a closed job started a thread"
