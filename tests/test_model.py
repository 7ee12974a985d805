"""Sequential: fit, evaluate, predict, callbacks, stopping, reproducibility, bad arguments.

The divergence guard has its own file, test_divergence.py."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import core
from core import DatasetError, ModelFileError, NumpynetError, Sequential, ShapeError, TrainingError
from core.callbacks import Callback, format_eta
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Softmax
from core.losses import one_hot
from core.optimizers import SGD


def small_cnn(seed=0, head=None, lr=0.1):
    head = head or [Dense(3), Softmax()]
    model = Sequential([Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(), *head],
                       input_shape=(1, 8, 8), seed=seed)
    model.compile(SGD(lr=lr, momentum=0.9), "crossentropy")
    return model


def mlp(seed=0, lr=0.1, batchnorm=False):
    body = [Dense(32), BatchNorm(), Dense(32, "relu")] if batchnorm else [Dense(32, "relu"), Dense(32, "relu")]
    model = Sequential([Flatten(), *body, Dense(3), Softmax()], input_shape=(1, 8, 8), seed=seed)
    model.compile(SGD(lr=lr), "crossentropy")
    return model


def snapshot(model):
    return {k: v.copy() for k, v in model.get_weights().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert_array_equal(a[k], b[k], err_msg=k)


# ----- fit / evaluate / predict ----------------------------------------------------------

def test_fit_learns_and_reports(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    history = model.fit(x, y, epochs=5, batch_size=16, seed=0)
    h = history.history
    assert set(h) == {"loss", "accuracy", "lr"}
    assert history.epoch == [0, 1, 2, 3, 4] and all(len(v) == 5 for v in h.values())
    assert h["loss"][-1] < h["loss"][0] / 3 and h["accuracy"][-1] > 0.9
    assert history.stop_reason is None and history.diverged is False
    assert model.evaluate(x, y)["accuracy"] > 0.9


def test_train_history_accumulates_across_fits(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    model.fit(x, y, epochs=2, seed=0)
    second = model.fit(x, y, epochs=3, seed=1, initial_epoch=2)   # Keras: trains epoch 2 only
    assert second.epoch == [2]
    assert len(model.train_history["loss"]) == 3
    assert model.train_history["loss"][2] == second.history["loss"][0]


def test_evaluate_agrees_with_predict(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    model.fit(x, y, epochs=1, seed=0)
    p = model.predict(x)
    result = model.evaluate(x, y, batch_size=10)
    assert set(result) == {"loss", "accuracy"}
    assert isinstance(result["loss"], float) and isinstance(result["accuracy"], float)
    assert result["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == y))
    assert result["loss"] == pytest.approx(-np.mean(np.log(p[np.arange(len(y)), y])), rel=1e-4)
    assert model.evaluate(x, one_hot(y, 3))["loss"] == pytest.approx(result["loss"])


def test_predict_returns_float32_probabilities(tiny_data):
    x, _ = tiny_data
    model = small_cnn()
    p = model.predict(x)
    assert p.shape == (len(x), 3) and p.dtype == np.float32
    assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert_allclose(model.predict(x, batch_size=7), p, rtol=1e-6)
    assert_allclose(model.predict(x[:, 0]), p, rtol=1e-6)   # (N, H, W) grey images


@pytest.mark.parametrize("head", [[Dense(3)], [Dense(3, activation="softmax")]], ids=["logits", "dense-softmax"])
def test_predict_gives_probabilities_whatever_the_last_layer(tiny_data, head):
    x, _ = tiny_data
    model = small_cnn(head=head)
    p = model.predict(x)
    assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert (p >= 0).all()
    out = model.forward(x)
    assert_array_equal(p.argmax(axis=1), out.argmax(axis=1))


def test_fit_accepts_one_hot_labels_and_grey_images(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    history = model.fit(x[:, 0], one_hot(y, 3), epochs=3, batch_size=16, seed=0)
    assert history.history["accuracy"][-1] > 0.7


def test_predict_of_a_batchnorm_model_does_not_depend_on_the_batch(tiny_data):
    x, y = tiny_data
    model = mlp(batchnorm=True)
    model.fit(x, y, epochs=1, seed=0)
    assert_allclose(model.predict(x[:1]), model.predict(x)[:1], rtol=1e-5)


def test_evaluate_is_deterministic_with_dropout(tiny_data):
    x, y = tiny_data
    model = small_cnn(head=[Dropout(0.5), Dense(3), Softmax()])
    assert model.evaluate(x, y) == model.evaluate(x, y)
    assert_array_equal(model.predict(x), model.predict(x))


# ----- callbacks --------------------------------------------------------------------------

class Recorder(Callback):
    def __init__(self):
        self.events, self.batch_logs, self.epoch_logs = [], [], []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_begin(self, batch, logs=None):
        self.events.append(f"batch_begin {batch}")

    def on_batch_end(self, batch, logs=None):
        self.events.append(f"batch_end {batch}")
        self.batch_logs.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end {epoch}")
        self.epoch_logs.append(dict(logs))

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_callbacks_receive_every_hook_in_order(tiny_data):
    x, y = tiny_data
    x, y = x[:25], y[:25]
    model = small_cnn()
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=10, validation_data=(x, y), callbacks=[rec], seed=0)

    def per_epoch(e):
        return [f"epoch_begin {e}", *[f"batch_{w} {b}" for b in range(3) for w in ("begin", "end")], f"epoch_end {e}"]

    assert rec.events == ["train_begin", *per_epoch(0), *per_epoch(1), "train_end"]
    assert rec.model is model
    assert rec.params == {"epochs": 2, "steps": 3, "samples": 25, "batch_size": 10,   # what the Recorder
                          "initial_epoch": 0, "seed": 0, "schedule": None, "augment": None,   # records, too
                          "validation_samples": 25}


def test_callback_logs(tiny_data):
    x, y = tiny_data
    x, y = x[:25], y[:25]
    model = small_cnn()
    rec = Recorder()

    class CheckValidation(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.expected = model.evaluate(x[:10], y[:10])

    check = CheckValidation()
    model.fit(x, y, epochs=2, batch_size=10, validation_data=(x[:10], y[:10]), callbacks=[rec, check], seed=0)
    assert all(set(logs) == {"loss", "accuracy", "size", "lr"} for logs in rec.batch_logs)
    assert [logs["size"] for logs in rec.batch_logs] == [10, 10, 5] * 2
    assert all(logs["lr"] == 0.1 for logs in rec.batch_logs)
    last = rec.epoch_logs[-1]
    assert set(last) == {"loss", "accuracy", "lr", "val_loss", "val_accuracy"}
    batches = rec.batch_logs[3:]
    assert last["loss"] == pytest.approx(sum(b["loss"] * b["size"] for b in batches) / 25)
    assert last["accuracy"] == pytest.approx(sum(b["accuracy"] * b["size"] for b in batches) / 25)
    assert last["val_loss"] == pytest.approx(check.expected["loss"])
    assert last["val_accuracy"] == pytest.approx(check.expected["accuracy"])


def test_verbose_fit_prints_a_progress_line(tiny_data, capsys):
    x, y = tiny_data
    small_cnn().fit(x, y, epochs=2, batch_size=32, validation_data=(x, y), verbose=True, seed=0)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "batch 3/3" in err and "val_acc" in err


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3661, "1:01:01"), (-5, "0:00")])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


class StopAt(Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)
        self.batches = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        self.batches.append((self.epoch, batch))
        if (self.epoch, batch) == self.at:
            self.model.stop_training = True


def test_stop_training_stops_after_that_batch(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    stop, rec = StopAt(1, 2), Recorder()
    history = model.fit(x, y, epochs=4, batch_size=16, callbacks=[stop, rec], seed=0)
    assert stop.batches == [(0, b) for b in range(6)] + [(1, 0), (1, 1), (1, 2)]
    assert rec.events[-2:] == ["epoch_end 1", "train_end"]
    assert history.epoch == [0, 1]
    assert history.diverged is False
    assert np.isfinite(model.predict(x)).all()
    again = model.fit(x, y, epochs=2, batch_size=16, seed=0)   # stop_training does not stick
    assert again.epoch == [0, 1]


def test_stop_reason_says_a_callback_stopped_training(tiny_data):
    """fit's docstring: the History's stop_reason is set if training stopped early."""
    x, y = tiny_data
    history = small_cnn().fit(x, y, epochs=3, batch_size=16, callbacks=[StopAt(0, 1)], seed=0)
    assert history.stop_reason and "stop" in history.stop_reason.lower()
    assert history.diverged is False


def test_stopped_epoch_keeps_history_lists_aligned(tiny_data):
    """Every key of History.history has one value per recorded epoch (as Keras: validation still runs),
    so a plot of val_loss against epochs never shifts."""
    x, y = tiny_data
    history = small_cnn().fit(x, y, epochs=3, batch_size=16, validation_data=(x, y), callbacks=[StopAt(1, 1)],
                              seed=0)
    assert {k: len(v) for k, v in history.history.items()} == {k: 2 for k in history.history}


# ----- reproducibility and shuffling -------------------------------------------------------

def _trained(x, y, fit_seed, model_seed=0):
    model = small_cnn(seed=model_seed, head=[Dropout(0.3), Dense(3), Softmax()])
    history = model.fit(x, y, epochs=2, batch_size=16, seed=fit_seed)
    return model, history


def test_same_seeds_same_training(tiny_data):
    x, y = tiny_data
    a, ha = _trained(x, y, fit_seed=3)
    b, hb = _trained(x, y, fit_seed=3)
    assert_same_weights(a.get_weights(), b.get_weights())
    assert ha.history == hb.history


def test_another_fit_seed_trains_differently(tiny_data):
    x, y = tiny_data
    a, _ = _trained(x, y, fit_seed=3)
    b, _ = _trained(x, y, fit_seed=4)
    assert not np.array_equal(a.get_weights()["4.W"], b.get_weights()["4.W"])


def test_model_seed_fixes_the_initial_weights():
    assert_same_weights(small_cnn(seed=5).get_weights(), small_cnn(seed=5).get_weights())
    assert not np.array_equal(small_cnn(seed=5).get_weights()["0.W"], small_cnn(seed=6).get_weights()["0.W"])


class SeenBatches:
    """An augment function that records the batches fit trains on (and changes nothing)."""

    def __init__(self):
        self.batches = []

    def __call__(self, xb, rng):
        assert isinstance(rng, np.random.Generator)
        self.batches.append(xb.copy())
        return xb


def _epochs_seen(x, y, shuffle, epochs=2):
    seen = SeenBatches()
    small_cnn().fit(x, y, epochs=epochs, batch_size=16, shuffle=shuffle, augment=seen, seed=0)
    steps = len(seen.batches) // epochs
    return [np.concatenate(seen.batches[e * steps:(e + 1) * steps]) for e in range(epochs)]


def _order(seen, x):
    """Index in x of each row of seen (rows of the tiny data are distinct)."""
    flat = x.reshape(len(x), -1)
    return [int(np.flatnonzero((flat == row).all(axis=1))[0]) for row in seen.reshape(len(seen), -1)]


def test_without_shuffle_batches_come_in_order(tiny_data):
    x, y = tiny_data
    for epoch in _epochs_seen(x, y, shuffle=False):
        assert_array_equal(epoch, x)


def test_shuffle_sees_every_sample_once_per_epoch_in_a_new_order(tiny_data):
    x, y = tiny_data
    first, second = (_order(e, x) for e in _epochs_seen(x, y, shuffle=True))
    assert sorted(first) == sorted(second) == list(range(len(x)))
    assert first != list(range(len(x))) and first != second


def test_augment_output_is_what_trains(tiny_data):
    x, y = tiny_data
    augmented, flipped = small_cnn(), small_cnn()
    augmented.fit(x, y, epochs=1, batch_size=16, shuffle=False, augment=lambda xb, rng: xb[:, :, ::-1], seed=0)
    flipped.fit(np.ascontiguousarray(x[:, :, ::-1]), y, epochs=1, batch_size=16, shuffle=False, seed=0)
    for k, v in augmented.get_weights().items():
        assert_allclose(v, flipped.get_weights()[k], rtol=1e-6, atol=1e-7)
    assert not np.allclose(augmented.get_weights()["0.W"], small_cnn().get_weights()["0.W"])


# ----- weights --------------------------------------------------------------------------------

def test_get_and_set_weights(tiny_data):
    x, _ = tiny_data
    a, b = small_cnn(seed=1), small_cnn(seed=2)
    assert set(a.get_weights()) == {"0.W", "0.b", "3.W", "3.b"}
    b.set_weights(a.get_weights())
    assert_array_equal(a.predict(x), b.predict(x))


def test_set_weights_refuses_wrong_shapes_and_keys():
    model = small_cnn()
    weights = snapshot(model)
    with pytest.raises(ShapeError, match=r"Dense #4 W.*\(5, 3\).*\(36, 3\)"):
        model.set_weights({**weights, "3.W": np.zeros((5, 3))})
    with pytest.raises(ShapeError, match="3.b"):
        model.set_weights({k: v for k, v in weights.items() if k != "3.b"})
    with pytest.raises(ShapeError, match="9.W"):
        model.set_weights({**weights, "9.W": np.zeros(1)})
    assert_same_weights(model.get_weights(), weights)


def test_copy_is_independent(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    model.meta["class_names"] = ["a", "b", "c"]
    twin = model.copy()
    assert_same_weights(twin.get_weights(), model.get_weights())
    assert twin.meta == model.meta
    before = snapshot(model)
    twin.compile(SGD(0.1), "crossentropy")
    twin.fit(x, y, epochs=1, seed=0)
    twin.meta["class_names"].append("d")
    assert_same_weights(model.get_weights(), before)
    assert model.meta["class_names"] == ["a", "b", "c"]


def test_summary_lists_layers_shapes_and_total():
    text = small_cnn().summary()
    for piece in ["Conv2D #1", "(4, 6, 6)", "MaxPool2D #2", "(4, 3, 3)", "Flatten #3", "(36)", "Dense #4",
                  "Softmax #5", "Total params: 151"]:
        assert piece in text


# ----- bad arguments ------------------------------------------------------------------------------

def test_errors_are_one_family():
    for cls in (ShapeError, ModelFileError, DatasetError, TrainingError):
        assert issubclass(cls, NumpynetError) and getattr(core, cls.__name__) is cls


def test_x_and_y_of_different_lengths(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    with pytest.raises(ValueError, match="96 inputs but 95 labels"):
        model.fit(x, y[:-1])
    with pytest.raises(ValueError, match="different lengths"):
        model.evaluate(x, y[:-1])
    with pytest.raises(ValueError, match="different lengths"):
        model.fit(x, y, validation_data=(x, y[:-2]))


@pytest.mark.parametrize("bad", [np.zeros((2, 784)), np.zeros((2, 3, 8, 8)), np.zeros((2, 1, 28, 28)), np.zeros(5)],
                         ids=["flat", "rgb", "mnist-size", "vector"])
def test_predict_with_the_wrong_input_shape_says_what_is_expected(bad):
    with pytest.raises(ShapeError, match=r"predict: expected input of shape \(N, 1, 8, 8\), got"):
        small_cnn().predict(bad)


def test_fit_and_evaluate_check_the_input_shape(tiny_data):
    _, y = tiny_data
    model = small_cnn()
    with pytest.raises(ShapeError, match=r"fit: expected input of shape \(N, 1, 8, 8\)"):
        model.fit(np.zeros((96, 1, 9, 9)), y)
    with pytest.raises(ShapeError, match=r"evaluate: expected"):
        model.evaluate(np.zeros((96, 64)), y)


@pytest.mark.parametrize("kwargs, pattern", [(dict(batch_size=0), "batch_size"), (dict(epochs=-1), "epochs")])
def test_bad_fit_arguments(tiny_data, kwargs, pattern):
    x, y = tiny_data
    with pytest.raises(ValueError, match=pattern):
        small_cnn().fit(x, y, **kwargs)


def test_bad_labels(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        model.fit(x, y + 1)
    with pytest.raises(ShapeError, match="3 outputs"):
        model.fit(x, one_hot(y, 4))


def test_fit_before_compile_is_a_training_error(tiny_data):
    x, y = tiny_data
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8))
    with pytest.raises(TrainingError, match="compile"):
        model.fit(x, y)
    with pytest.raises(TrainingError, match="compile"):
        model.evaluate(x, y)


def test_unbuilt_model():
    with pytest.raises(TrainingError, match="input_shape"):
        Sequential([Dense(3)]).summary()
    with pytest.raises(ShapeError, match="input_shape"):
        Sequential([Dense(3)], input_shape=(0, 28, 28))


@pytest.mark.parametrize("kwargs, pattern", [(dict(optimizer="lbfgs"), "lbfgs"), (dict(loss="hinge"), "hinge")])
def test_compile_with_unknown_names(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        small_cnn().compile(**kwargs)


def test_unknown_layer_in_a_config():
    config = small_cnn().get_config()
    config["layers"][1]["type"] = "MaxPool3D"
    with pytest.raises(ValueError, match="MaxPool3D"):
        Sequential.from_config(config)


def test_config_round_trip_rebuilds_the_architecture():
    model = small_cnn(head=[Dense(8), BatchNorm(), Dropout(0.2), Dense(3), Softmax()])
    twin = Sequential.from_config(model.get_config())
    assert twin.get_config() == model.get_config()
    assert [x.output_shape for x in twin.layers] == [x.output_shape for x in model.layers]
    assert twin.count_params() == model.count_params()


# ----- inputs that would mislead --------------------------------------------------------------

def test_nan_pixels_are_refused_rather_than_blamed_on_the_learning_rate(tiny_data):
    x, y = tiny_data
    x = x.copy()
    x[5, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="sample 5"):
        small_cnn().fit(x, y, epochs=1, batch_size=16)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_in_validation_data_is_refused_naming_it(tiny_data, bad):
    """Training data was checked, validation data was not: its NaN became a NaN val_loss with no word."""
    x, y = tiny_data
    xv = x.copy()
    xv[7, 0, 1, 1] = bad
    with pytest.raises(ValueError, match="validation_data.*sample 7"):
        small_cnn().fit(x, y, epochs=1, validation_data=(xv, y))
    with pytest.raises(ValueError, match="evaluate.*sample 7"):
        small_cnn().evaluate(xv, y)


@pytest.mark.parametrize("where", ["fit", "evaluate", "validation_data"])
@pytest.mark.parametrize("bad", [1.5, 2.0001, np.nan, -np.inf])
def test_fractional_or_non_finite_labels_are_refused(tiny_data, where, bad):
    """A label of 1.5 used to be truncated to class 1; a NaN label became some huge integer."""
    x, y = tiny_data
    yf = y.astype(np.float64)
    yf[4] = bad
    model = small_cnn()
    call = {"fit": lambda: model.fit(x, yf, epochs=1), "evaluate": lambda: model.evaluate(x, yf),
            "validation_data": lambda: model.fit(x, y, epochs=1, validation_data=(x, yf))}[where]
    with pytest.raises(ValueError, match=f"{where}: labels must be whole class indices, but label 4 is"):
        call()


def test_whole_float_labels_are_accepted_as_class_indices(tiny_data):
    x, y = tiny_data
    a, b = small_cnn(), small_cnn()
    a.fit(x, y, epochs=1, seed=0)
    b.fit(x, y.astype(np.float32), epochs=1, seed=0)
    assert_same_weights(a.get_weights(), b.get_weights())
    assert a.evaluate(x, y) == b.evaluate(x, y.astype(np.float64))


def test_non_numeric_or_non_finite_one_hot_labels_are_refused(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match="labels must be numbers"):
        small_cnn().fit(x, y.astype(str))
    soft = one_hot(y, 3)
    soft[9, 1] = np.nan
    with pytest.raises(ValueError, match="label row 9"):
        small_cnn().fit(x, soft)


def test_initial_epoch_follows_keras(tiny_data):
    """fit(epochs=E, initial_epoch=I) trains epochs I..E-1; I above E is an error that says so."""
    x, y = tiny_data
    model = small_cnn()
    assert model.fit(x, y, epochs=4, initial_epoch=2).epoch == [2, 3]
    assert model.fit(x, y, epochs=4, initial_epoch=4).epoch == []
    with pytest.raises(ValueError, match="initial_epoch=5 must be in"):
        model.fit(x, y, epochs=2, initial_epoch=5)


def test_evaluate_on_no_samples_says_so(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match="no samples"):
        small_cnn().evaluate(x[:0], y[:0])



@pytest.mark.parametrize("where", ["fit", "validation_data"])
def test_no_samples_to_fit_or_validate_on_is_refused_before_training(tiny_data, where):
    """fit on no samples returned an empty history with no word; no validation samples failed only at
    the end of the first epoch, after it had trained."""
    x, y = tiny_data
    model = small_cnn()
    before = snapshot(model)
    data, val = ((x[:0], y[:0]), (x, y)) if where == "fit" else ((x, y), (x[:0], y[:0]))
    with pytest.raises(ValueError, match=f"{where}: no samples"):
        model.fit(*data, epochs=1, batch_size=16, validation_data=val)
    assert_same_weights(model.get_weights(), before)


@pytest.mark.parametrize("val", [(1,), [1, 2, 3], "xy", 5], ids=["one item", "three items", "text", "number"])
def test_validation_data_that_is_not_a_pair_says_so(tiny_data, val):
    """A 1-tuple gave "_check_data() missing 1 required positional argument: 'what'"."""
    x, y = tiny_data
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(x, y\)"):
        small_cnn().fit(x, y, epochs=1, validation_data=val)

def test_zero_epochs_with_a_named_schedule_trains_nothing(tiny_data):
    x, y = tiny_data
    model = small_cnn()
    before = {k: v.copy() for k, v in model.get_weights().items()}
    history = model.fit(x, y, epochs=0, lr_schedule="cosine")
    assert history.history == {} and all(np.array_equal(before[k], v) for k, v in model.get_weights().items())


def test_no_input_gradient_is_computed_below_the_first_parameters():
    """Flatten -> Dense: the Dense's input gradient would only reach the images; training skips it,
    and model.backward still returns d/d input."""
    model = Sequential([Flatten(), Dense(5, "relu"), Dense(3), Softmax()], input_shape=(1, 4, 4), seed=0)
    model.compile(SGD(0.1), "crossentropy")
    assert [layer.need_input_grad for layer in model.layers] == [False, False, True, True]
    x = np.random.default_rng(0).random((6, 1, 4, 4), dtype=np.float32)
    model.train_step(x, np.arange(6) % 3)
    model.forward(x)
    assert model.backward(np.ones((6, 3), np.float32)).shape == x.shape
    assert [layer.need_input_grad for layer in model.layers] == [False, False, True, True]
