"""fit as a Keras user writes it: validation_split, class and sample weights, *_on_batch, batches from a
generator, uint8 and memory-mapped inputs, verbose, metrics, Keras's argument names."""
import io
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import ArgumentError, Sequential
from core.callbacks import Callback
from core.callbacks.progress import ProgressLine, for_verbose
from core.datasets.dataset import to_images
from core.layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, Softmax
from core.losses import CrossEntropy, MSE, one_hot
from core.metrics import TopKAccuracy
from core.optimizers import OPTIMIZERS, SGD


def mlp(lr=0.1, metrics=None, input_shape=(1, 8, 8)):
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=input_shape, seed=0)
    model.compile(SGD(lr=lr), "crossentropy", metrics=metrics)
    return model


def assert_same_weights(a, b):
    for k, v in a.get_weights().items():
        assert_array_equal(v, b.get_weights()[k], err_msg=k)


class Seen:
    """An ``augment`` that changes nothing and records the first pixel (a sample's id) of every batch."""

    def __init__(self):
        self.ids = []

    def __call__(self, xb, rng):
        self.ids.extend(np.round(xb[:, 0, 0, 0] * 1000).astype(int).tolist())
        return xb


# ----- validation_split ------------------------------------------------------------------------

def test_validation_split_holds_out_exactly_the_last_fraction_before_shuffling(tiny_data):
    x, y = tiny_data
    x = x[:90].copy()
    x[:, 0, 0, 0] = np.arange(90) / 1000   # each sample's id
    y = y[:90]
    seen, val = Seen(), []

    class Val(Callback):
        def on_epoch_end(self, epoch, logs=None):
            val.append((logs["val_loss"], self.model.evaluate(x[81:], y[81:])["loss"], self.params["samples"]))

    mlp().fit(x, y, epochs=2, batch_size=16, validation_split=0.1, shuffle=True, seed=3, augment=seen,
              callbacks=[Val()])
    assert sorted(seen.ids[:81]) == sorted(seen.ids[81:]) == list(range(81))   # every epoch: the first 81, shuffled
    assert seen.ids[:81] != list(range(81))
    assert all(reported == pytest.approx(last9) and n == 81 for reported, last9, n in val)


@pytest.mark.parametrize("n, split, held_out", [(25, 0.1, 2), (10, 0.25, 2), (96, 0.5, 48)])
def test_validation_split_rounds_as_keras(tiny_data, n, split, held_out):
    x, y = tiny_data
    seen = Seen()
    xs = x[:n].copy()
    xs[:, 0, 0, 0] = np.arange(n) / 1000
    mlp().fit(xs, y[:n], epochs=1, validation_split=split, augment=seen, shuffle=False)
    assert seen.ids == list(range(n - held_out))


def test_validation_data_overrides_the_split_and_bad_splits_say_why(tiny_data):
    x, y = tiny_data
    history = mlp().fit(x, y, epochs=1, validation_split=0.5, validation_data=(x[:10], y[:10]), seed=0)
    assert history.history == mlp().fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), seed=0).history
    for bad, pattern in [(1.0, r"\[0, 1\)"), (-0.1, r"\[0, 1\)"), ("0.1", r"\[0, 1\)"),
                         (0.001, "no samples to validate")]:
        with pytest.raises(ValueError, match=pattern):
            mlp().fit(x, y, validation_split=bad)


# ----- class_weight and sample_weight ----------------------------------------------------------

def test_class_weight_zero_makes_that_class_not_move_the_loss(tiny_data):
    x, y = tiny_data
    other = x.copy()
    other[y == 0] = np.random.default_rng(1).random(other[y == 0].shape)   # class 0's images changed
    weights = {0: 0.0, 1: 1.0, 2: 2.0}
    a, b = mlp(), mlp()
    ha = a.fit(x, y, epochs=2, batch_size=16, class_weight=weights, seed=0)
    hb = b.fit(other, y, epochs=2, batch_size=16, class_weight=weights, seed=0)
    assert ha.history["loss"] == hb.history["loss"]
    assert_same_weights(a, b)
    c = mlp()
    c.fit(other, y, epochs=2, batch_size=16, seed=0)   # unweighted, class 0 does move it
    assert not np.array_equal(a.get_weights()["1.W"], c.get_weights()["1.W"])


def test_sample_weight_weights_each_sample_loss_as_keras(tiny_data):
    """Loss = sum(w_i * loss_i) / N; with plain SGD the step is the weighted gradient's."""
    x, y = tiny_data
    x, y = x[:8], y[:8]
    w = np.array([0, 1, 2, 0.5, 1, 1, 3, 0], np.float32)
    model = mlp()
    per_sample = [model.evaluate(x[i:i + 1], y[i:i + 1])["loss"] for i in range(8)]
    before = model.get_weights()["1.W"].copy()
    loss, _ = model.train_on_batch(x, y, sample_weight=w)
    assert loss == pytest.approx(float(np.dot(w, per_sample)) / 8, rel=1e-5)
    step = model.get_weights()["1.W"] - before
    twice = mlp()
    twice.train_on_batch(x, y, sample_weight=2 * w)
    np.testing.assert_allclose(twice.get_weights()["1.W"] - before, 2 * step, rtol=1e-4, atol=1e-7)


def test_class_and_sample_weights_multiply(tiny_data):
    x, y = tiny_data
    a, b = mlp(), mlp()
    a.fit(x, y, epochs=1, class_weight={0: 2, 1: 1, 2: 0.5}, sample_weight=np.linspace(0, 1, 96), seed=0)
    b.fit(x, y, epochs=1, sample_weight=np.linspace(0, 1, 96) * np.array([2, 1, 0.5])[y], seed=0)
    for k, v in a.get_weights().items():
        np.testing.assert_allclose(v, b.get_weights()[k], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("scale", [1000.0, 1e-3])
def test_large_or_small_weights_are_no_divergence(tiny_data, scale):
    """The guard judges a weighted loss on the plain loss's scale: weights of 1000 once 'exploded' the loss."""
    x, y = tiny_data
    history = mlp(lr=1e-4).fit(x, y, epochs=2, sample_weight=np.full(96, scale), seed=0)
    assert not history.diverged and history.stop_reason is None
    plain = mlp(lr=1e-4 * scale).fit(x, y, epochs=2, seed=0)   # plain SGD: weight w is a rate w times larger
    assert history.history["loss"] == pytest.approx([scale * v for v in plain.history["loss"]], rel=1e-3)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(class_weight={0: 1, 1: 1}), "no weight for class 2"),
    (dict(class_weight=[1, 1, 1]), "must be a dict"),
    (dict(class_weight={0: -1, 1: 1, 2: 1}), "weights >= 0"),
    (dict(sample_weight=np.ones(95)), r"96 numbers.*\(95\)"),
    (dict(sample_weight=np.r_[np.ones(95), np.nan]), "sample 95 has nan"),
])
def test_bad_weights_are_refused_naming_what(tiny_data, kwargs, pattern):
    x, y = tiny_data
    with pytest.raises(ValueError, match=pattern):
        mlp().fit(x, y, **kwargs)


# ----- *_on_batch --------------------------------------------------------------------------------

def test_on_batch_methods_return_what_keras_returns(tiny_data):
    x, y = tiny_data
    model, twin = mlp(metrics=[TopKAccuracy(2)]), mlp()
    loss, acc, top2 = model.train_on_batch(x[:16], y[:16])
    assert (loss, acc) == twin.train_step(x[:16], y[:16])
    assert 0 <= acc <= top2 <= 1
    assert model.test_on_batch(x, y) == list(model.evaluate(x, y, batch_size=96).values())
    assert model.test_on_batch(x, y, return_dict=True) == model.evaluate(x, y, batch_size=96)
    assert set(model.train_on_batch(x[:16], y[:16], return_dict=True)) == {"loss", "accuracy", "top_2_accuracy"}
    assert_array_equal(model.predict_on_batch(x), model.predict(x))
    with pytest.raises(ValueError, match="train_on_batch: x and y|different lengths"):
        model.train_on_batch(x, y[:3])


# ----- generators and steps_per_epoch -----------------------------------------------------------

def batches(x, y, size, forever=True):
    while True:
        for i in range(0, len(x), size):
            yield x[i:i + size], y[i:i + size]
        if not forever:
            return


def test_a_generator_with_steps_per_epoch_trains_as_the_arrays_do(tiny_data):
    x, y = tiny_data
    a, b = mlp(), mlp()
    ha = a.fit(batches(x, y, 32), steps_per_epoch=3, epochs=3)
    hb = b.fit(x, y, batch_size=32, epochs=3, shuffle=False)
    assert ha.history == hb.history and ha.stop_reason is None
    assert_same_weights(a, b)


def test_a_list_of_batches_is_one_pass_an_epoch_and_weights_may_ride_along(tiny_data):
    x, y = tiny_data
    w = np.linspace(0, 1, 96)
    a, b = mlp(), mlp()
    a.fit([(x[i:i + 32], y[i:i + 32], w[i:i + 32]) for i in range(0, 96, 32)], epochs=2)
    b.fit(x, y, batch_size=32, epochs=2, shuffle=False, sample_weight=w)
    assert_same_weights(a, b)


def test_a_generator_that_runs_out_stops_training_saying_so(tiny_data):
    x, y = tiny_data
    history = mlp().fit(batches(x, y, 32, forever=False), steps_per_epoch=2, epochs=5)
    assert history.epoch == [0, 1] and "ran out after 1 of an epoch's 2" in history.stop_reason


@pytest.mark.parametrize("make, kwargs, pattern", [
    (lambda x, y: batches(x, y, 32), {}, "needs steps_per_epoch"),
    (lambda x, y: batches(x, y, 32), dict(y=np.zeros(96)), "give no y"),
    (lambda x, y: iter([(x[:4],)]), dict(steps_per_epoch=1), r"batch 1 must be a tuple \(x, y\)"),
    (lambda x, y: iter([(x[:4, :, :4], y[:4])]), dict(steps_per_epoch=1), r"fit batch 1: expected input"),
    (lambda x, y: iter([]), dict(steps_per_epoch=1), "are empty"),
    (lambda x, y: x, dict(y=np.zeros(96), steps_per_epoch=2), "steps_per_epoch is for an iterable"),
])
def test_bad_batches_are_refused_before_training(tiny_data, make, kwargs, pattern):
    x, y = tiny_data
    model = mlp()
    before = model.get_weights()["1.W"].copy()
    with pytest.raises(ValueError, match=pattern):
        model.fit(make(x, y), **kwargs)
    assert_array_equal(model.get_weights()["1.W"], before)


# ----- uint8 and memory-mapped inputs -----------------------------------------------------------

def test_uint8_pixels_are_scaled_as_the_loaders_scale_them(tiny_data):
    x, y = tiny_data
    pixels = np.round(x * 255).astype(np.uint8)
    a, b = mlp(), mlp()
    ha = a.fit(pixels, y, epochs=2, batch_size=16, seed=0, validation_data=(pixels, y))
    hb = b.fit(to_images(pixels), y, epochs=2, batch_size=16, seed=0, validation_data=(to_images(pixels), y))
    assert ha.history == hb.history
    assert_same_weights(a, b)
    assert_array_equal(a.predict(pixels), a.predict(to_images(pixels)))
    assert a.evaluate(pixels[:, 0], y) == a.evaluate(to_images(pixels), y)   # (N, H, W) too


def test_a_uint8_memmap_is_read_a_batch_at_a_time_never_copied_whole(tmp_path):
    n = 20_000
    pixels = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.uint8, (n, 28, 28))
    pixels[:] = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    pixels.flush()
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    y = np.arange(n) % 3
    model = mlp(input_shape=(1, 28, 28))
    tracemalloc.start()
    try:
        model.fit(x, y, epochs=1, batch_size=500, validation_split=0.1, seed=0)
        model.evaluate(x, y)
        model.predict(x[:5000])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 2, f"peak {peak / 1e6:.1f} MB for a {x.nbytes / 1e6:.1f} MB uint8 file"


# ----- verbose -----------------------------------------------------------------------------------

@pytest.mark.parametrize("verbose, lines", [(0, 0), (False, 0), (2, 3), (1, 3), (True, 3), ("auto", 3)])
def test_verbose_as_keras_and_a_line_per_epoch_off_a_terminal(tiny_data, capsys, verbose, lines):
    x, y = tiny_data
    mlp().fit(x, y, epochs=3, validation_data=(x, y), verbose=verbose)
    err = capsys.readouterr().err   # captured: not a terminal, so 1 writes a line per epoch too
    assert "\r" not in err and err.count("\n") == lines
    if lines:
        assert err.splitlines()[2].startswith("epoch 3/3  batch 3/3  loss") and "val_acc" in err and "ETA" in err


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_1_on_a_terminal_rewrites_one_line_and_2_never_does(tiny_data):
    x, y = tiny_data
    terminal = Terminal()
    [live] = for_verbose(1, terminal)
    [per_epoch] = for_verbose(2, Terminal())
    mlp().fit(x, y, epochs=2, batch_size=16, callbacks=[live, per_epoch])
    assert live.live and not per_epoch.live
    assert terminal.getvalue().count("\r") >= 2 and terminal.getvalue().count("\n") == 2
    assert "\r" not in per_epoch.stream.getvalue() and per_epoch.stream.getvalue().count("\n") == 2
    assert ProgressLine(io.StringIO()).live is False
    with pytest.raises(ValueError, match="verbose must be 0"):
        mlp().fit(x, y, verbose=3)


# ----- metrics -----------------------------------------------------------------------------------

def test_top_k_accuracy_known_answers():
    out = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], np.float32)
    y = np.array([2, 1, 0, 0])
    assert TopKAccuracy(1)(out, y) == 0.25
    assert TopKAccuracy(2)(out, y) == 0.75
    assert TopKAccuracy(2)(out, one_hot(y, 3)) == 0.75
    assert TopKAccuracy(5)(out, y) == 1.0   # k above the classes: every class counts
    with pytest.raises(ValueError, match="k must be"):
        TopKAccuracy(0)


def test_compiled_metrics_reach_logs_history_and_validation(tiny_data):
    x, y = tiny_data
    model = mlp(metrics=["accuracy", "sparse_top_k_categorical_accuracy", TopKAccuracy(2)])
    history = model.fit(x, y, epochs=2, validation_data=(x, y))
    assert set(history.history) == {"loss", "accuracy", "sparse_top_k_categorical_accuracy", "top_2_accuracy", "lr",
                                    "val_loss", "val_accuracy", "val_sparse_top_k_categorical_accuracy",
                                    "val_top_2_accuracy"}
    assert history.history["val_sparse_top_k_categorical_accuracy"] == [1.0, 1.0]   # 3 classes, top 5
    assert model.evaluate(x, y)["top_2_accuracy"] == pytest.approx(TopKAccuracy(2)(model.predict(x), y))
    m = mlp(metrics=["top_k_categorical_accuracy"])
    assert "top_k_categorical_accuracy" in m.evaluate(x, one_hot(y, 3))


@pytest.mark.parametrize("metrics, pattern", [(["f1"], "unknown metric 'f1'"),
                                              ([TopKAccuracy(2), TopKAccuracy(2)], "must differ")])
def test_unknown_or_clashing_metrics_are_refused(metrics, pattern):
    with pytest.raises(ValueError, match=pattern):
        mlp(metrics=metrics)


# ----- Keras's argument names -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_learning_rate_is_kerass_name_for_lr(name):
    cls = OPTIMIZERS[name]
    assert cls(learning_rate=0.0123).get_config() == cls(lr=0.0123).get_config()
    with pytest.raises(ArgumentError, match=f"{cls.__name__}: learning_rate is Keras's name for lr"):
        cls(lr=0.1, learning_rate=0.2)
    with pytest.raises(ArgumentError, match="not both"):
        cls(0.1, learning_rate=0.2)


@pytest.mark.parametrize("layer, ours, keras", [
    (Conv2D, dict(filters=2, kernel_size=3, stride=2), dict(filters=2, kernel_size=3, strides=2)),
    (MaxPool2D, dict(pool_size=3, stride=(1, 2)), dict(pool_size=3, strides=(1, 2))),
    (AvgPool2D, dict(pool_size=2, stride=1), dict(pool_size=2, strides=1)),
])
def test_strides_is_kerass_name_for_stride(layer, ours, keras):
    a, b = layer(**ours), layer(**keras)
    assert a.get_config() == b.get_config()
    assert Sequential([b], input_shape=(1, 9, 9)).output_shape == Sequential([a], input_shape=(1, 9, 9)).output_shape
    with pytest.raises(ArgumentError, match="strides is Keras's name for stride"):
        layer(**ours, strides=1)


def test_kerass_loss_names(tiny_data):
    x, y = tiny_data
    model = mlp()
    for name, labels in [("sparse_categorical_crossentropy", y), ("categorical_crossentropy", one_hot(y, 3))]:
        model.compile(SGD(lr=0.1), name)
        assert isinstance(model.loss, CrossEntropy)
        assert model.evaluate(x, labels)["loss"] == pytest.approx(model.evaluate(x, y)["loss"])
    model.compile(SGD(lr=0.1), "mean_squared_error")
    assert isinstance(model.loss, MSE)
