"""Regression works, or is refused clearly: a model without a final Softmax compiled with MSE trains on
float targets and predicts raw values; float targets or a single output with cross-entropy are errors."""
import io

import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import Sequential, ShapeError, load_model
from core.callbacks import ProgressLine
from core.layers import Dense, Flatten, Softmax
from core.optimizers import SGD, Adam


def line(seed=0):
    model = Sequential([Dense(1)], input_shape=(1,), seed=seed)
    model.compile(SGD(lr=0.1), "mse")
    return model


@pytest.fixture
def xy(rng):
    x = rng.uniform(-1, 1, (256, 1)).astype(np.float32)
    return x, 2 * x[:, 0] + 1


@pytest.mark.parametrize("shape", ["(N,)", "(N, 1)"])
def test_mse_fits_a_line_and_predicts_raw_values(xy, shape):
    x, y = xy
    model = line()
    history = model.fit(x, y if shape == "(N,)" else y[:, None], epochs=60, batch_size=16, seed=0)
    assert history.history["loss"][-1] < 1e-6
    assert_allclose(model.layers[0].get_weights()[0], [[2.0]], atol=1e-3)
    assert_allclose(model.layers[0].get_weights()[1], [1.0], atol=1e-3)
    probe = np.array([[-3.0], [0.0], [0.25], [5.0]], np.float32)
    assert_allclose(model.predict(probe)[:, 0], 2 * probe[:, 0] + 1, atol=1e-2)
    assert model.evaluate(x, y)["loss"] < 1e-6


def test_whole_number_targets_are_values_too_not_class_indices():
    """y = 2x + 1 on integers is a column of whole floats: still a regression (one output has no classes)."""
    x = np.arange(-4, 5, dtype=np.float32)[:, None] / 4
    y = (2 * np.arange(-4, 5) + 1).astype(np.float64)
    model = line()
    model.fit(x, y, epochs=300, batch_size=9, seed=0)
    assert_allclose(model.predict(x)[:, 0], y, atol=1e-2)


def test_predict_of_a_one_output_model_is_its_output_not_a_softmax_of_it(rng):
    """A softmax over one unit is 1.0 for every input: predict returned exactly that."""
    model = Sequential([Dense(1)], input_shape=(3,), seed=0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    assert_allclose(model.predict(x), model.forward(x))
    assert np.ptp(model.predict(x)) > 0


def test_several_outputs_with_mse_predict_raw_values_and_train(rng):
    x = rng.uniform(-1, 1, (256, 2)).astype(np.float32)
    y = np.stack([x[:, 0] - x[:, 1], 3 * x[:, 1] + 0.5], axis=1)
    model = Sequential([Dense(2)], input_shape=(2,), seed=0)
    model.compile(Adam(lr=0.05), "mse")
    model.fit(x, y, epochs=40, batch_size=32, seed=0)
    assert_allclose(model.predict(x), y, atol=1e-2)


def test_a_regression_history_has_no_accuracy_and_saves(xy, tmp_path):
    x, y = xy
    model = line()
    stream = io.StringIO()
    history = model.fit(x, y, epochs=2, batch_size=64, validation_data=(x, y), callbacks=[ProgressLine(stream)])
    assert set(history.history) == {"loss", "val_loss", "lr"}
    assert "acc" not in stream.getvalue() and "val_loss" in stream.getvalue()
    assert set(model.evaluate(x, y)) == {"loss"}
    loaded = load_model(model.save(tmp_path / "line"))
    assert_allclose(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("where", ["fit", "evaluate", "validation_data"])
def test_float_targets_with_cross_entropy_are_refused_naming_the_problem(rng, where):
    x = rng.random((20, 4), dtype=np.float32)
    y = rng.random(20) * 3
    model = Sequential([Dense(3), Softmax()], input_shape=(4,), seed=0)
    model.compile(SGD(), "crossentropy")
    call = {"fit": lambda: model.fit(x, y), "evaluate": lambda: model.evaluate(x, y),
            "validation_data": lambda: model.fit(x, y.round(), validation_data=(x, y))}[where]
    with pytest.raises(ValueError, match=rf"{where}: labels must be whole class indices, but label 0 is .*"
                                         rf"for regression, compile with loss='mse'"):
        call()


def test_float_rows_that_are_not_distributions_with_cross_entropy_are_refused(rng):
    x = rng.random((20, 4), dtype=np.float32)
    model = Sequential([Dense(3), Softmax()], input_shape=(4,), seed=0)
    model.compile(SGD(), "crossentropy")
    with pytest.raises(ValueError, match=r"fit: CrossEntropy takes one-hot or probability rows .*row 0 .*"
                                         r"for regression, compile with loss='mse'"):
        model.fit(x, rng.standard_normal((20, 3)))


def test_cross_entropy_on_one_output_is_refused(rng):
    """Over one output log-softmax is 0 whatever the weights: nothing would ever train."""
    x = rng.random((20, 4), dtype=np.float32)
    model = Sequential([Dense(1)], input_shape=(4,), seed=0)
    model.compile(SGD(), "crossentropy")
    with pytest.raises(ShapeError, match=r"CrossEntropy needs one output per class .* this model has 1 output"):
        model.fit(x, np.zeros(20))


def test_mse_with_one_dimensional_fractions_for_several_outputs_is_refused(rng):
    x = rng.random((20, 4), dtype=np.float32)
    model = Sequential([Flatten(), Dense(3)], input_shape=(4,), seed=0)
    model.compile(SGD(), "mse")
    with pytest.raises(ValueError, match=r"fit: labels must be whole class indices, but label 0 is .*"
                                         r"give targets of shape \(N, 3\)"):
        model.fit(x, rng.random(20) * 2)
    with pytest.raises(ShapeError, match=r"fit: targets of shape \(20, 2\) do not fit the model's 3 outputs"):
        model.fit(x, rng.random((20, 2)))


def test_a_single_number_for_y_is_refused_naming_it(xy):
    with pytest.raises(ValueError, match=r"fit: y must hold one label per input, got the single value"):
        line().fit(xy[0], 3.0)
