"""Saving over a model: whatever moment the process dies, the path loads as the old or the new model,
and the next save clears what the dead one left.

Two ways of dying: every file-system step of a save made to fail for good (all the later ones too, as in
a killed process, so no clean-up runs), and a real process saving in a loop killed with SIGKILL.
"""
import json
import multiprocessing
import os
import random
import shutil
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import Sequential, load_model
from core.layers import Dense, Flatten, Softmax

STEPS = [(os, "replace"), (os, "rename"), (os, "unlink"), (os, "link"), (os, "mkdir"), (os, "rmdir"),
         (os, "fsync"), (shutil, "rmtree"), (shutil, "copyfile"), (np, "savez")]


class Killed(BaseException):
    """The process died here: not an Exception, so no ``except Exception`` tidies up after it."""


class KillAt:
    """From file-system step ``at`` (counted from 1) on, every step raises ``Killed``."""

    def __init__(self, monkeypatch, at):
        self.at, self.steps = at, 0
        for owner, name in STEPS:
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name)))

    def _wrap(self, fn):
        def step(*args, **kwargs):
            self.steps += 1
            if self.steps >= self.at:
                raise Killed(f"killed at step {self.at}")
            return fn(*args, **kwargs)
        return step


def version(v):
    """A small model whose weights and meta say which save it came from."""
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 4, 4), seed=v)
    model.compile("adam")
    model.meta["version"] = v
    return model


def assert_is(path, model):
    assert_same(load_model(path), model)


def assert_same(loaded, model):
    assert loaded.meta["version"] == model.meta["version"]
    for key, arr in model.get_weights().items():
        assert_array_equal(loaded.get_weights()[key], arr)


def loads_as_one_of(path, *models):
    """The version ``path`` loads as, after checking it is one of ``models``, weights and all."""
    loaded = load_model(path)
    versions = [m.meta["version"] for m in models]
    found = loaded.meta["version"]
    assert found in versions, f"{path} loads as version {found}, expected one of {versions}"
    assert_same(loaded, models[versions.index(found)])
    return found


def start(path, state, old):
    """Put ``path`` in ``state``; 'messy' is what a save killed after its first commit leaves behind."""
    if state == "empty":
        path.mkdir()
    if state in ("model", "messy"):
        old.save(path)
    if state == "messy":
        os.rename(path / "weights.npz", path / "weights.next.npz")
        doc = json.loads((path / "model.json").read_text())
        (path / "model.json").write_text(json.dumps({**doc, "weights": "weights.next.npz"}))
        (path / "weights.npz").write_bytes(b"half a hard link")
        (path / ".numpynet-tmp-model.json").write_text("{")
        (path.parent / f".{path.name}.numpynet-tmp-dead").mkdir()


def assert_clean(path):
    assert sorted(os.listdir(path)) == ["model.json", "weights.npz"]
    assert os.listdir(path.parent) == [path.name], "a temporary folder was left beside the model"


def count_steps(tmp_path, monkeypatch, state, old, new):
    path = tmp_path / "count" / "m"
    path.parent.mkdir()
    start(path, state, old)
    with monkeypatch.context() as m:
        killer = KillAt(m, float("inf"))
        new.save(path)
    return killer.steps


@pytest.mark.parametrize("state", ["absent", "empty", "model", "messy"])
def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_model(tmp_path, monkeypatch, state):
    old, new, third = version(1), version(2), version(3)
    total = count_steps(tmp_path, monkeypatch, state, old, new)
    assert total >= 5
    for at in range(1, total + 1):
        path = tmp_path / f"at{at}" / "m"
        path.parent.mkdir()
        start(path, state, old)
        with monkeypatch.context() as m:
            KillAt(m, at)
            with pytest.raises(Killed):
                new.save(path)
        if state in ("model", "messy"):
            loads_as_one_of(path, old, new)
        elif (path / "model.json").exists():
            assert_is(path, new)
        else:
            assert not path.exists() or not os.listdir(path), "a half-written model is at the path"
        third.save(path)
        assert_is(path, third)
        assert_clean(path)


def _save_forever(path, saves):
    """Child process: save version 1 and version 2 over each other until killed, counting finished saves."""
    models = [version(1), version(2)]
    for i in range(10 ** 9):
        models[i % 2].save(path)
        saves.value = i + 1


def test_a_process_killed_while_saving_leaves_a_loadable_model(tmp_path):
    """Each kill lands a few milliseconds after the child finished its first or its second save (whatever
    the machine's load), so both versions are on disk at some kill and many kills land inside a save."""
    old, new = version(1), version(2)
    path = tmp_path / "m"
    old.save(path)
    fork = multiprocessing.get_context("fork")
    rng = random.Random(0)
    versions, leftovers = set(), 0
    for attempt in range(40):
        saves = fork.Value("i", 0)
        child = fork.Process(target=_save_forever, args=(path, saves))
        child.start()
        deadline = time.monotonic() + 30
        while saves.value < 1 + attempt % 2 and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.004))
        child.kill()
        child.join()
        assert child.exitcode == -9
        versions.add(loads_as_one_of(path, old, new))
        leftovers += sorted(os.listdir(path)) != ["model.json", "weights.npz"] or len(os.listdir(tmp_path)) > 1
    assert versions == {1, 2}
    assert leftovers, "no kill landed inside a save: the test proved nothing"
    new.save(path)
    assert_is(path, new)
    assert_clean(path)


def test_saves_and_loads_at_the_same_time_see_a_whole_model(tmp_path):
    """Two threads save over each other while this one loads: no save fails, every load is one model."""
    models = [version(1), version(2)]
    path = tmp_path / "m"
    models[0].save(path)
    errors = []

    def save_repeatedly(model):
        try:
            for _ in range(15):
                model.save(path)
        except Exception as e:   # noqa: BLE001 - reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=save_repeatedly, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    loads = 0
    while any(thread.is_alive() for thread in threads):
        loads_as_one_of(path, *models)
        loads += 1
    for thread in threads:
        thread.join()
    assert not errors and loads > 5
    assert_clean(path)
