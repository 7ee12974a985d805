"""core.callbacks: Keras's standard callbacks on scripted figures, the Keras hook names, and the learning
rate callbacks leave behind."""
import csv

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import ModelFileError, Sequential, load_model
from core.callbacks import (CSVLogger, Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                            ReduceLROnPlateau)
from core.layers import Dense, Flatten, Softmax
from core.optimizers import SGD


def mlp(lr=0.1):
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=lr), "crossentropy")
    return model


class Script(Callback):
    """Overwrites logs[key] at each epoch's end with a scripted figure, and keeps that epoch's weights.

    Listed before the callback under test, which then sees the scripted value (the logs dict is shared)."""

    def __init__(self, values, key="val_loss"):
        self.values, self.key, self.weights = values, key, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append({k: v.copy() for k, v in self.model.get_weights().items()})


def fit(model, tiny_data, callbacks, epochs=10, **kwargs):
    x, y = tiny_data
    return model.fit(x, y, epochs=epochs, batch_size=32, callbacks=callbacks, seed=0, **kwargs)


# ----- EarlyStopping ---------------------------------------------------------------------------

@pytest.mark.parametrize("values, kwargs, stopped, best", [
    ([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6], dict(patience=2), 3, 1),
    ([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6], dict(patience=3), 4, 1),
    ([1.0, 0.9, 0.86, 0.5, 0.4], dict(patience=2, min_delta=0.15), 2, 0),   # 0.9 and 0.86: within min_delta
    ([1.0, 1.0, 1.0], dict(patience=0), 1, 0),   # patience 0 (as 1, in Keras): the first epoch without gain
])
def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best(tiny_data, values, kwargs, stopped, best):
    model, script = mlp(), Script(values)
    stopper = EarlyStopping(restore_best_weights=True, **kwargs)
    history = fit(model, tiny_data, [script, stopper], epochs=len(values))
    assert history.epoch == list(range(stopped + 1))
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (stopped, best, values[best])
    for k, v in script.weights[best].items():
        assert_array_equal(model.get_weights()[k], v, err_msg=k)
    assert not np.array_equal(model.get_weights()["1.W"], script.weights[-1]["1.W"])


def test_early_stopping_watches_accuracy_upwards_and_keeps_the_last_weights_by_default(tiny_data):
    model, script = mlp(), Script([0.5, 0.7, 0.6, 0.65, 0.9], key="val_accuracy")
    stopper = EarlyStopping(monitor="val_accuracy", patience=2)   # mode 'auto': accuracies rise
    history = fit(model, tiny_data, [script, stopper], epochs=5)
    assert history.epoch == [0, 1, 2, 3] and stopper.best == 0.7
    assert_array_equal(model.get_weights()["1.W"], script.weights[-1]["1.W"])   # restore_best_weights=False


def test_early_stopping_never_stops_a_run_that_keeps_improving_nor_restores(tiny_data):
    model, script = mlp(), Script([1.0, 0.9, 0.8])
    stopper = EarlyStopping(patience=0, restore_best_weights=True)
    assert fit(model, tiny_data, [script, stopper], epochs=3).epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 0


def test_early_stopping_with_a_baseline_stops_unless_it_is_beaten(tiny_data):
    stopper = EarlyStopping(patience=2, baseline=0.5)
    assert fit(mlp(), tiny_data, [Script([0.9, 0.8, 0.7, 0.6]), stopper], epochs=4).epoch == [0, 1]


def test_early_stopping_defaults_are_keras_and_a_missing_key_warns(tiny_data):
    stopper = EarlyStopping()
    assert (stopper.monitor.name, stopper.monitor.min_delta, stopper.patience, stopper.monitor.mode,
            stopper.restore_best_weights) == ("val_loss", 0, 0, "min", False)
    with pytest.warns(RuntimeWarning, match="val_loss.*lack"):
        assert fit(mlp(), tiny_data, [stopper], epochs=2).epoch == [0, 1]   # no validation data: never stops
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="down")


# ----- ModelCheckpoint -------------------------------------------------------------------------

def test_checkpoint_saves_only_improvements_when_asked(tiny_data, tmp_path):
    path = tmp_path / "best"
    model, script = mlp(), Script([1.0, 0.8, 0.9, 0.7, 0.75])
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    saves = []
    model.save = lambda p, save=model.save: saves.append(p) or save(p)
    fit(model, tiny_data, [script, checkpoint], epochs=5)
    assert len(saves) == 3 and checkpoint.best == 0.7
    for k, v in script.weights[3].items():
        assert_array_equal(load_model(path).get_weights()[k], v, err_msg=k)


def test_checkpoint_fills_the_path_from_epoch_and_logs_every_epoch(tiny_data, tmp_path):
    model = mlp()
    fit(model, tiny_data, [ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{loss:.2f}"))], epochs=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:4] for n in names] == ["e01-", "e02-"]
    assert float(names[1][4:]) == pytest.approx(model.train_history["loss"][1], abs=0.005)


def test_checkpoint_never_writes_over_what_is_not_a_model(tiny_data, tmp_path):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    model = mlp()
    before = model.get_weights()["1.W"].copy()
    with pytest.raises(ModelFileError, match="notes"):
        fit(model, tiny_data, [ModelCheckpoint(foreign)], epochs=2)
    assert (foreign / "thesis.txt").read_text() == "precious" and len(list(foreign.iterdir())) == 1
    assert_array_equal(model.get_weights()["1.W"], before)   # refused before training, not after an epoch


# ----- ReduceLROnPlateau -----------------------------------------------------------------------

def test_reduce_lr_on_plateau_drops_after_patience_and_keeps_the_rate(tiny_data):
    model = mlp(lr=0.1)
    rates = []

    class Rates(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(self.model.optimizer.lr)

    values = [1.0, 0.9, 0.95, 0.93, 0.9, 0.89995, 0.9, 0.8]
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.03)
    history = fit(model, tiny_data, [Script(values), reduce, Rates()], epochs=len(values))
    # no gain after epoch 1 for 2 epochs: drops after epoch 3, and after 5 (0.89995 is within min_delta of 0.9),
    # to min_lr rather than 0.025
    assert rates == pytest.approx([0.1] * 4 + [0.05] * 2 + [0.03] * 2)
    assert history.history["lr"] == pytest.approx(rates)
    assert model.optimizer.lr == pytest.approx(0.03)   # the rate a callback set stays after fit
    assert (ReduceLROnPlateau().factor, ReduceLROnPlateau().patience, ReduceLROnPlateau().min_lr,
            ReduceLROnPlateau().monitor.min_delta) == (0.1, 10, 0.0, 1e-4)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)


# ----- LearningRateScheduler, and the rate after fit ------------------------------------------

def test_learning_rate_scheduler_sets_each_epoch_and_the_rate_persists(tiny_data):
    model = mlp(lr=0.1)
    history = fit(model, tiny_data, [LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)], epochs=3)
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.lr == pytest.approx(0.025)
    assert fit(model, tiny_data, [], epochs=1).history["lr"] == pytest.approx([0.025])   # the next run starts there


def test_learning_rate_scheduler_of_the_epoch_alone_and_bad_rates(tiny_data):
    history = fit(mlp(), tiny_data, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], epochs=2)
    assert history.history["lr"] == pytest.approx([0.01, 0.02])
    with pytest.raises(ValueError, match="returned -1"):
        fit(mlp(), tiny_data, [LearningRateScheduler(lambda epoch, lr: -1)], epochs=1)


def test_a_callback_rate_is_the_base_a_schedule_goes_on_multiplying(tiny_data):
    """StepDecay halves each epoch; the callback halves the base at epoch 2's start: 0.1, 0.05, then
    0.5 * (0.5 * 0.1) * 0.25."""
    from core.schedules import StepDecay
    model = mlp(lr=0.1)

    class HalveAt2(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                self.model.optimizer.lr *= 0.5

    history = fit(model, tiny_data, [HalveAt2()], epochs=3, lr_schedule=StepDecay(1, 0.5))
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.0125])
    assert model.optimizer.lr == pytest.approx(0.05)   # the new base; the schedule's own decay ends with the run


# ----- CSVLogger -------------------------------------------------------------------------------

def test_csv_logger_writes_a_row_per_epoch_and_appends(tiny_data, tmp_path):
    path = tmp_path / "log.csv"
    x, y = tiny_data
    model = mlp()
    history = model.fit(x, y, epochs=2, batch_size=32, validation_data=(x, y), callbacks=[CSVLogger(path)], seed=0)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history.history["val_loss"])
    model.fit(x, y, epochs=1, batch_size=32, validation_data=(x, y), callbacks=[CSVLogger(path, append=True)])
    assert len(list(csv.DictReader(path.open()))) == 3 and path.read_text().count("epoch") == 1
    model.fit(x, y, epochs=1, batch_size=32, callbacks=[CSVLogger(path)])   # append=False: a new file
    assert len(list(csv.DictReader(path.open()))) == 1


# ----- hooks -----------------------------------------------------------------------------------

class KerasHooks(Callback):
    def __init__(self):
        self.calls = []

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch, sorted(logs)))


def test_keras_batch_hooks_are_called(tiny_data):
    hooks = KerasHooks()
    fit(mlp(), tiny_data, [hooks], epochs=1)   # 96 samples: 3 batches
    assert hooks.calls == [c for b in range(3) for c in (("begin", b), ("end", b, ["accuracy", "loss", "lr", "size"]))]


def test_on_batch_hooks_still_run_and_both_names_follow_keras(tiny_data):
    """Keras: on_train_batch_* calls on_batch_* by default; overriding on_train_batch_* replaces that."""
    class Both(KerasHooks):
        def on_batch_end(self, batch, logs=None):
            self.calls.append(("old end", batch))

    class Old(Callback):
        ends = 0

        def on_batch_end(self, batch, logs=None):
            Old.ends += 1

    both = Both()
    fit(mlp(), tiny_data, [both, Old()], epochs=1)
    assert ("old end", 0) not in both.calls and Old.ends == 3


@pytest.mark.parametrize("hook, pattern", [("on_test_batch_end", "Keras hook numpynet's fit never calls"),
                                           ("on_epoch_ends", "no callback hook")])
def test_a_hook_fit_never_calls_is_refused_naming_it(tiny_data, hook, pattern):
    cb = type("Watcher", (Callback,), {hook: lambda self, *a, **k: None})()
    with pytest.raises(ValueError, match=f"Watcher defines {hook}.*{pattern}"):
        fit(mlp(), tiny_data, [cb], epochs=1)


def test_a_callback_lacking_hooks_is_refused(tiny_data):
    class Bare:
        def on_epoch_end(self, epoch, logs=None):
            pass

    with pytest.raises(ValueError, match="Bare lacks .*core.callbacks.Callback"):
        fit(mlp(), tiny_data, [Bare()], epochs=1)


def test_the_stop_reason_names_the_callback_that_stopped_training(tiny_data):
    history = fit(mlp(), tiny_data, [Script([1.0, 1.1, 1.2]), EarlyStopping(patience=1, restore_best_weights=True)],
                  epochs=3)
    assert history.stop_reason == ("EarlyStopping: val_loss did not improve on 1 (epoch 1) for 1 epoch; "
                                   "restored that epoch's weights")

    class Enough(Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    assert fit(mlp(), tiny_data, [Enough()], epochs=3).stop_reason == "stopped by Enough (model.stop_training)"
