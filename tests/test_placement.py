"""Inference calls hold their caller and each helper on a CPU of its own; training leaves them to the scheduler.

On a machine that cannot spare a CPU for each thread (or is not Linux) the
same calls must leave every thread's CPUs as they were: these tests assert
whichever of the two the machine calls for.
"""
import os

import numpy as np
import pytest

from core import parallel, placement
from core.layers import Dense, Flatten, Softmax
from core.model import Sequential
from core.optimizers import SGD

CAN_PIN = placement._sched_getcpu() is not None and len(placement._own_cpus()) >= 2


@pytest.fixture
def model():
    model = Sequential([Flatten(), Dense(64, activation="relu"), Dense(3), Softmax()], input_shape=(1, 32, 32), seed=0)
    model.compile(SGD(0.1), "crossentropy")
    return model


@pytest.fixture
def seen(monkeypatch):
    """Every run's (caller's CPUs inside the call, the helper's CPUs as the run left them)."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    runs, run = [], parallel.run

    def watched(tasks):
        out = run(tasks)   # the caller is held from its first run with helpers to the end of the call
        if len(tasks) >= 2 and parallel._helpers and parallel._helpers[0].tid is not None:
            runs.append((os.sched_getaffinity(0), os.sched_getaffinity(parallel._helpers[0].tid)))
        return out
    monkeypatch.setattr(parallel, "run", watched)
    return runs


def _many(n=600):
    return np.random.default_rng(0).random((n, 1, 32, 32), dtype=np.float32)


def test_a_prediction_holds_its_caller_and_the_helper_each_on_a_cpu_of_its_own(model, seen):
    before = os.sched_getaffinity(0)
    model.predict(_many(), batch_size=32)   # 19 batches side by side: one run of two threads
    assert seen, "the prediction ran no run of two tasks or more"
    for caller, helper in seen:
        if CAN_PIN:
            assert len(caller) == 1 and len(helper) == 1 and caller != helper, (caller, helper)
        else:
            assert caller == before
    assert os.sched_getaffinity(0) == before, "the caller did not get its own CPUs back"


def test_training_leaves_the_threads_to_the_scheduler_even_after_a_prediction(model, seen):
    before = os.sched_getaffinity(0)
    model.predict(_many(), batch_size=32)   # pins the helper
    seen.clear()
    x, y = _many(512), np.arange(512) % 3
    model.train_on_batch(x, y)
    assert seen, "the training step ran no run of two tasks or more"
    for caller, helper in seen:
        assert caller == before
        assert helper == set(placement._PROCESS_CPUS)


def test_a_failing_prediction_gives_the_caller_back_its_cpus(model, seen, monkeypatch):
    before = os.sched_getaffinity(0)

    def fail(x, training=False):
        raise RuntimeError("a layer failed")
    monkeypatch.setattr(model.layers[-1], "forward", fail)   # inside the run, after the caller is held
    with pytest.raises(RuntimeError, match="a layer failed"):
        model.predict(_many(), batch_size=32)
    assert os.sched_getaffinity(0) == before


def test_a_call_without_helpers_asks_the_system_nothing(model, monkeypatch):
    """One image runs on the caller alone: no CPUs looked up or set (three system calls, ~11 us a call)."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    model.predict(_many(1))
    asked = []
    monkeypatch.setattr(os, "sched_setaffinity", lambda *args: asked.append(args))
    monkeypatch.setattr(os, "sched_getaffinity", lambda *args: asked.append(args) or {0})
    model.predict(_many(1))
    model.predict_on_batch(_many(1))
    assert asked == []


def test_a_caller_on_one_cpu_already_is_left_there(model, monkeypatch):
    """A thread the user pinned, or an inference call inside another, keeps the one CPU it has."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    before = os.sched_getaffinity(0)
    one = {min(before)}
    os.sched_setaffinity(0, one)
    try:
        model.predict(_many(), batch_size=32)
        assert os.sched_getaffinity(0) == one
    finally:
        os.sched_setaffinity(0, before)


def test_a_system_that_refuses_pins_still_predicts(model, monkeypatch):
    """A sandbox may refuse to pin threads: the prediction goes on, placed by the scheduler."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    expected = model.predict(_many(), batch_size=32)

    def refuse(tid, cpus):
        raise PermissionError("sched_setaffinity: not permitted here")
    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    for helper in parallel._helpers:   # as if no helper had been pinned yet
        helper.cpus = None
    np.testing.assert_array_equal(model.predict(_many(), batch_size=32), expected)
