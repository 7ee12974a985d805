"""Continuing exactly: a model saved after epoch 1 and trained on gives the weights of one that never stopped.

That takes the optimizer's state in the model file (slots, step count, the
schedule's start) and epoch e's shuffle, augmentation and dropout drawn
from (seed, e) alone.
"""
import json

import numpy as np
import pytest

from core import ModelFileError, Sequential, load_model
from core.augment import Augment
from core.layers import BatchNorm, Dense, Dropout, Flatten, ReLU, Softmax
from core.optimizers import SGD, AdaDelta, AdaGrad, Adam, RMSprop
from core.schedules import CosineDecay, StepDecay

CASES = {   # optimizer, schedule, augmentation, dropout
    "sgd-momentum": (lambda: SGD(lr=0.05, momentum=0.9), None, None, False),
    "adam": (lambda: Adam(lr=0.01), None, None, False),
    "sgd-momentum-cosine": (lambda: SGD(lr=0.05, momentum=0.9), lambda: CosineDecay(3), None, False),
    "adam-step-augment-dropout": (lambda: Adam(lr=0.01), lambda: StepDecay(1, 0.5), Augment(shift=1, rotate=5),
                                  True),
    "rmsprop": (lambda: RMSprop(lr=0.005), None, None, False),
    "adagrad": (lambda: AdaGrad(lr=0.05), None, None, False),
    "adadelta": (lambda: AdaDelta(), None, None, False),
    "nesterov-weight-decay": (lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), None, None,
                              False),
}


def _model(optimizer, dropout):
    layers = [Flatten(), Dense(16), BatchNorm(), ReLU(), *([Dropout(0.3)] if dropout else []), Dense(3), Softmax()]
    model = Sequential(layers, input_shape=(1, 8, 8), seed=0)
    model.compile(optimizer(), "crossentropy")
    return model


@pytest.mark.parametrize("case", CASES)
def test_one_epoch_saved_loaded_then_more_equals_all_in_one_go(case, tiny_data, tmp_path):
    optimizer, schedule, augment, dropout = CASES[case]
    x, y = tiny_data
    fit = {"batch_size": 16, "seed": 5, "augment": augment}
    whole = _model(optimizer, dropout)
    whole.fit(x, y, epochs=3, lr_schedule=schedule and schedule(), **fit)

    part = _model(optimizer, dropout)
    part.fit(x, y, epochs=1, lr_schedule=schedule and schedule(), **fit)
    again = load_model(part.save(tmp_path / "after-one"))
    assert again.epochs_trained == 1
    again.fit(x, y, epochs=3, initial_epoch=again.epochs_trained, lr_schedule=again.optimizer.schedule, **fit)

    for key, value in whole.get_weights().items():
        np.testing.assert_allclose(again.get_weights()[key], value, atol=1e-6, err_msg=key)
    assert again.train_history["loss"] == pytest.approx(whole.train_history["loss"], abs=1e-6)


def test_epoch_order_depends_on_the_seed_and_the_epoch_only(tiny_data):
    """Epoch 2 alone, from the same weights, sees the batches it saw within a run of three."""
    x, y = tiny_data
    seen = {}

    class Batches:   # records the first label of every batch by (epoch, batch)
        def __init__(self):
            self.model = None

    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=1e-9), "crossentropy")   # weights barely move: only the order matters here
    for initial in (0, 2):
        order = []
        model.fit(x, y, epochs=3, initial_epoch=initial, batch_size=16, seed=9,
                  augment=lambda xb, rng, order=order: order.append(xb.copy()) or xb)
        seen[initial] = order
    np.testing.assert_array_equal(np.concatenate(seen[2]), np.concatenate(seen[0][-6:]))
    assert not np.array_equal(np.concatenate(seen[0][:6]), np.concatenate(seen[0][6:12]))


def test_epochs_trained_counts_every_epoch_across_fits(tiny_data):
    x, y = tiny_data
    model = _model(lambda: SGD(lr=0.05), False)
    assert model.epochs_trained == 0
    model.fit(x, y, epochs=2)
    model.fit(x, y, epochs=3, initial_epoch=model.epochs_trained)
    assert model.epochs_trained == 3


# ----- the optimizer's state in the model file ------------------------------------------------------

@pytest.fixture
def saved(tiny_data, tmp_path):
    x, y = tiny_data
    model = _model(lambda: Adam(lr=0.01), False)
    model.fit(x, y, epochs=2, batch_size=16, seed=1, lr_schedule=CosineDecay(4))
    return model, model.save(tmp_path / "model")


def test_load_model_returns_the_optimizer_with_its_state(saved):
    model, path = saved
    loaded = load_model(path)
    before, after = model.optimizer, loaded.optimizer
    assert type(after) is Adam and after.get_config() == before.get_config()
    assert after.iterations == before.iterations == 12
    assert after.state.keys() == before.state.keys() and len(after.state) == 6
    for key, slots in before.state.items():
        assert slots.keys() == after.state[key].keys() == {"m", "v"}
        for name, value in slots.items():
            np.testing.assert_array_equal(after.state[key][name], value)
    assert after.schedule.get_config() == before.schedule.get_config() and after.schedule_start == 0
    with np.load(path / "weights.npz", allow_pickle=False) as npz:
        assert "optimizer/iterations" in npz.files and "optimizer/1.W/m" in npz.files


def test_a_model_trained_without_a_schedule_saves_none(tiny_data, tmp_path):
    x, y = tiny_data
    model = _model(lambda: SGD(lr=0.05, momentum=0.9), False)
    model.fit(x, y, epochs=1, lr_schedule=CosineDecay(2))
    model.fit(x, y, epochs=2, initial_epoch=1)   # a run without one: constant rate, nothing to continue
    loaded = load_model(model.save(tmp_path / "m"))
    assert loaded.optimizer.schedule is None and "schedule" not in json.loads((tmp_path / "m/model.json").read_text())


def test_a_model_file_without_optimizer_state_still_loads(saved):
    _, path = saved
    _rewrite_weights(path, lambda arrays: [arrays.pop(k) for k in list(arrays) if k.startswith("optimizer/")])
    _edit_json(path, lambda doc: doc.pop("schedule"))
    loaded = load_model(path)
    assert type(loaded.optimizer) is Adam and loaded.optimizer.state == {} and loaded.optimizer.iterations == 0


def _rewrite_weights(path, change):
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(path / "weights.npz", **arrays)


def _edit_json(path, change):
    doc = json.loads((path / "model.json").read_text())
    change(doc)
    (path / "model.json").write_text(json.dumps(doc))


BAD_STATE = {
    "a slot of the wrong shape": (lambda a: a.update({"optimizer/1.W/m": np.zeros((3, 3), np.float32)}),
                                  "optimizer/1.W/m", "(3, 3)"),
    "a slot of a weight the model lacks": (lambda a: a.update({"optimizer/9.W/m": np.zeros(3, np.float32)}),
                                           "optimizer/9.W/m", "no weight 9.W"),
    "a slot Adam does not keep": (lambda a: a.update({"optimizer/1.W/acc": np.zeros((64, 16), np.float32)}),
                                  "optimizer/1.W/acc", "Adam keeps m, v"),
    "a step count below zero": (lambda a: a.update({"optimizer/iterations": np.array(-1)}),
                                "optimizer/iterations", "-1"),
    "a step count that is not one integer": (lambda a: a.update({"optimizer/iterations": np.array([1.5])}),
                                             "optimizer/iterations", "integer"),
    "an entry of no known kind": (lambda a: a.update({"optimizer/momentum": np.array(0.9)}),
                                  "optimizer/momentum", "unknown"),
    "a schedule start without a schedule": (lambda a: a.update({"optimizer/schedule_start": np.array(2)}),
                                            "optimizer/schedule_start", "no schedule"),
}


@pytest.mark.parametrize("bad", BAD_STATE)
def test_corrupt_or_mismatching_optimizer_state_is_refused_naming_the_file_and_entry(saved, bad):
    _, path = saved
    change, *pieces = BAD_STATE[bad]
    if bad == "a schedule start without a schedule":
        _edit_json(path, lambda doc: doc.pop("schedule"))
    _rewrite_weights(path, change)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    for piece in [str(path / "weights.npz"), *pieces]:
        assert piece in str(info.value)


@pytest.mark.parametrize("schedule, words", [({"type": "Sideways"}, "unknown schedule"),
                                             ({"type": "CosineDecay", "epochs": -1}, "epochs > 0"),
                                             ("cosine", "mapping")])
def test_a_bad_schedule_in_model_json_is_refused_naming_it(saved, schedule, words):
    _, path = saved
    _edit_json(path, lambda doc: doc.update(schedule=schedule))
    with pytest.raises(ModelFileError, match=f"model.json.*'schedule'.*{words}"):
        load_model(path)


def test_a_schedule_without_its_start_is_refused(saved):
    _, path = saved
    _rewrite_weights(path, lambda a: a.pop("optimizer/schedule_start"))
    with pytest.raises(ModelFileError, match="optimizer/schedule_start.*missing"):
        load_model(path)
