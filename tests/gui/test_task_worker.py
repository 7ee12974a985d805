"""TaskWorker on a real QThread: result, failure, cancel, progress; the one worker for non-training work."""
import importlib
import inspect as pyinspect
import pkgutil
import threading

import pytest
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QApplication

import gui
from gui.worker import Job, TaskWorker, TrainWorker, Worker


class Recorder(QObject):
    """Runs a TaskWorker in a Job and records what it says, and on which thread each slot ran."""

    def __init__(self, fn):
        super().__init__()
        self.events, self.threads = [], set()
        self.worker = TaskWorker(fn)
        self.worker.progress.connect(self.on_progress)
        self.worker.finished.connect(self.on_finished)
        self.worker.failed.connect(self.on_failed)
        self.worker.cancelled.connect(self.on_cancelled)
        self.job = Job(self)

    def _saw(self, *event):
        self.threads.add(QThread.currentThread())
        self.events.append(event)

    def on_progress(self, done, total):
        self._saw("progress", done, total)

    def on_finished(self, result):
        self._saw("finished", result)

    def on_failed(self, message, details):
        self._saw("failed", message, details)

    def on_cancelled(self):
        self._saw("cancelled")

    def run(self, qtbot):
        self.job.start(self.worker)
        qtbot.waitUntil(lambda: not self.job.running, timeout=5000)
        qtbot.wait(20)   # queued signals emitted just before the end
        return self.events

    def ends(self):
        return [e for e in self.events if e[0] != "progress"]


def test_a_task_reports_its_result_and_last_progress_on_the_gui_thread(qtbot):
    def fn(progress):
        for i in range(1, 6):
            progress(i, 5)
        return {"answer": 42}

    rec = Recorder(fn)
    events = rec.run(qtbot)
    assert events[-1] == ("finished", {"answer": 42}) and rec.ends() == [events[-1]]
    assert ("progress", 5.0, 5.0) in events, "the last progress (done == total) is always sent"
    assert rec.threads == {QApplication.instance().thread()}


def test_a_byte_count_beyond_a_c_int_arrives_whole(qtbot):
    big = 5_000_000_000
    events = Recorder(lambda progress: progress(big, big)).run(qtbot)
    assert ("progress", float(big), float(big)) in events


def test_an_error_becomes_failed_with_its_message_and_traceback(qtbot):
    def fn(progress):
        raise ValueError("layer 3 does not fit")

    rec = Recorder(fn)
    rec.run(qtbot)
    [(kind, message, details)] = rec.ends()
    assert kind == "failed" and message == "layer 3 does not fit" and "Traceback" in details


def test_a_stop_reaches_the_function_through_progress_and_ends_in_cancelled(qtbot):
    calls = []
    asked = threading.Event()

    def fn(progress):
        for i in range(10_000):
            calls.append(i)
            progress(i, 10_000)
            asked.wait(0.001)
        return "all done"

    rec = Recorder(fn)
    rec.job.start(rec.worker)
    qtbot.waitUntil(lambda: len(calls) > 5, timeout=5000)
    rec.worker.stop()
    asked.set()
    qtbot.waitUntil(lambda: not rec.job.running, timeout=5000)
    qtbot.wait(20)
    assert rec.ends() == [("cancelled",)] and len(calls) < 10_000


@pytest.mark.parametrize("ending", ["returns", "raises"])
def test_a_task_stopped_where_it_cannot_be_interrupted_is_cancelled_not_reported(qtbot, ending):
    """A loader with no progress callback finishes anyway, or wraps the stop in its own error:
    either way the user asked to cancel, so neither a result nor a failure is shown."""
    gate = threading.Event()

    def fn(progress):
        gate.wait(5)
        if ending == "raises":
            raise OSError("download interrupted")
        return "stale"

    rec = Recorder(fn)
    rec.job.start(rec.worker)
    rec.worker.stop()
    gate.set()
    qtbot.waitUntil(lambda: not rec.job.running, timeout=5000)
    qtbot.wait(20)
    assert rec.ends() == [("cancelled",)]


def gui_classes():
    for info in pkgutil.walk_packages(gui.__path__, "gui."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in pyinspect.getmembers(module, pyinspect.isclass):
            if cls.__module__ == info.name:
                yield cls


def test_the_window_has_one_task_worker_beside_training():
    """Loading, evaluating and any other background task run through TaskWorker: no second class of
    that shape (a worker or a QThread subclass) exists anywhere in gui/."""
    workers = {cls for cls in gui_classes() if issubclass(cls, (Worker, QThread))}
    assert workers == {Worker, TrainWorker, TaskWorker}
