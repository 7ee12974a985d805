"""Surgery on a network (core.surgery): every change on a copy, with known answers."""
import numpy as np
import pytest

from core import Sequential, zoo
from core.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sigmoid, Softmax
from core.surgery import add_weight_noise, prune, scale_unit, set_temperature, shift_bias, switch_off


@pytest.fixture
def cnn():
    model = Sequential([Conv2D(4, 3), BatchNorm(), ReLU(), MaxPool2D(2), Flatten(), Dense(8, activation="relu"),
                        Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile("adam", "crossentropy")
    return model


@pytest.fixture
def x():
    return np.random.default_rng(0).random((20, 1, 8, 8)).astype(np.float32)


def snapshot(model):
    return {k: v.copy() for k, v in model.get_weights().items()}


def assert_untouched(model, before):
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


OPERATIONS = [lambda m: switch_off(m, 0, 1), lambda m: switch_off(m, -3, 2), lambda m: scale_unit(m, 5, 0, 3.0),
              lambda m: shift_bias(m, 6, 2, -1.0), lambda m: prune(m, 0.5), lambda m: prune(m, 0.7, per_layer=True),
              lambda m: add_weight_noise(m, 0.5, rng=0), lambda m: set_temperature(m, 2.0)]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_returns_a_changed_copy_and_leaves_the_model(cnn, x, operation):
    before, probs = snapshot(cnn), cnn.predict(x)
    twin = operation(cnn)
    assert twin is not cnn and all(a is not b for a, b in zip(twin.layers, cnn.layers))
    assert_untouched(cnn, before)
    np.testing.assert_array_equal(cnn.predict(x), probs)
    assert cnn.meta == {}
    assert not np.allclose(twin.predict(x), probs)
    assert twin.evaluate(x, np.zeros(len(x), int))["accuracy"] >= 0     # compiled like the original


def test_switching_off_the_only_unit_feeding_a_class_changes_exactly_that_class_score(x):
    model = Sequential([Flatten(), Dense(5, activation="relu"), Dense(3)], input_shape=(1, 8, 8), seed=1)
    W = model.layers[2].params["W"]
    W[3] = 0
    W[3, 1] = 2.0                  # hidden unit 3 feeds class 1 only
    W[:, 1] = 0
    W[3, 1] = 2.0                  # and class 1 hears from no other unit
    model.layers[1].params["b"][3] = 0.5   # make sure the unit is active
    before = model.scores(x)
    after = switch_off(model, 1, 3).scores(x)
    changed = ~np.isclose(after, before).all(axis=0)
    assert changed.tolist() == [False, True, False]
    np.testing.assert_allclose(after[:, 1], model.layers[2].params["b"][1])


def test_switching_off_an_output_unit_zeroes_that_class_score_alone(cnn, x):
    before = cnn.scores(x)
    after = switch_off(cnn, 6, 2).scores(x)
    np.testing.assert_array_equal(after[:, :2], before[:, :2])
    np.testing.assert_array_equal(after[:, 2], 0)


def test_a_switched_off_filter_is_silent_even_through_batchnorm(cnn, x):
    bn = cnn.layers[1]
    bn.buffers["mean"][:] = 0.3                 # running statistics that would turn 0 into a constant
    bn.params["beta"][:] = 0.7
    twin = switch_off(cnn, 0, 2)
    out = x
    for layer in twin.layers[:3]:
        out = layer.forward(out)
    assert (out[:, 2] == 0).all() and (out[:, [0, 1, 3]] != 0).any()


def test_a_switched_off_filter_is_silent_through_a_batchnorm_after_its_activation(x):
    model = Sequential([Conv2D(3, 3), ReLU(), MaxPool2D(2), BatchNorm(), Flatten(), Dense(2)], input_shape=(1, 8, 8),
                       seed=0)
    bn = model.layers[3]
    bn.buffers["mean"][:], bn.params["beta"][:] = 0.2, 0.5
    twin = switch_off(model, 0, 1)
    out = x
    for layer in twin.layers[:4]:
        out = layer.forward(out)
    assert (out[:, 1] == 0).all() and (out[:, [0, 2]] != 0).any()
    np.testing.assert_array_equal(twin.layers[3].params["gamma"][[0, 2]], 1)


def test_scale_and_shift_act_on_one_unit(cnn):
    scaled = scale_unit(cnn, 0, 1, -2.0)
    np.testing.assert_array_equal(scaled.layers[0].params["W"][1], -2 * cnn.layers[0].params["W"][1])
    np.testing.assert_array_equal(scaled.layers[0].params["W"][[0, 2, 3]], cnn.layers[0].params["W"][[0, 2, 3]])
    np.testing.assert_array_equal(scaled.layers[0].params["b"], cnn.layers[0].params["b"])
    shifted = shift_bias(cnn, 5, 4, 0.25)
    b = cnn.layers[5].params["b"].copy()
    b[4] += 0.25
    np.testing.assert_array_equal(shifted.layers[5].params["b"], b)


def test_pruning_nothing_changes_nothing(cnn, x):
    for per_layer in (False, True):
        twin = prune(cnn, 0.0, per_layer=per_layer)
        assert_untouched(twin, snapshot(cnn))
        np.testing.assert_array_equal(twin.predict(x), cnn.predict(x))


def test_pruning_everything_answers_every_input_alike():
    model = zoo.build("cnn_small", input_shape=(1, 12, 12), classes=10, seed=0)
    model.compile("sgd", "crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((200, 1, 12, 12)).astype(np.float32)
    for layer in model.layers:
        if "b" in layer.params:
            layer.params["b"][:] = rng.normal(0, 0.1, layer.params["b"].shape)
    probs = prune(model, 1.0).predict(x)
    np.testing.assert_allclose(probs, np.broadcast_to(probs[0], probs.shape), atol=1e-6)
    y = np.arange(200) % 10                     # balanced classes: a constant answer is chance level
    assert prune(model, 1.0).evaluate(x, y)["accuracy"] == pytest.approx(0.1)


def test_pruning_zeroes_exactly_that_share_of_the_smallest_weights(cnn):
    weights = [cnn.layers[i].params["W"] for i in (0, 5, 6)]
    total = sum(w.size for w in weights)
    twin = prune(cnn, 0.3)
    pruned = [twin.layers[i].params["W"] for i in (0, 5, 6)]
    zeroed = np.concatenate([(p == 0).ravel() for p in pruned])
    magnitudes = np.concatenate([np.abs(w).ravel() for w in weights])
    assert zeroed.sum() == round(0.3 * total)
    assert magnitudes[zeroed].max() <= magnitudes[~zeroed].min()
    per_layer = prune(cnn, 0.3, per_layer=True)
    for i, w in zip((0, 5, 6), weights):
        assert (per_layer.layers[i].params["W"] == 0).sum() == round(0.3 * w.size)
    np.testing.assert_array_equal(twin.layers[1].params["gamma"], cnn.layers[1].params["gamma"])


def test_pruning_breaks_ties_by_position_and_zeroes_exactly_the_share_asked():
    model = Sequential([Flatten(), Dense(6)], input_shape=(1, 2, 2), seed=0)
    model.layers[1].params["W"][:] = np.array([[3, 1, 2, 1, 5, 1], [1, 4, 2, 6, 1, 2], [2, 2, 7, 1, 3, 8],
                                                [1, 9, 2, 2, 1, 1]], np.float32) * np.array([1, -1, 1, -1, 1, -1])
    for fraction, zeroed in [(0.25, 6), (0.5, 12), (1 / 24, 1), (0.9, 22)]:
        W = prune(model, fraction).layers[1].params["W"]
        reference = np.argsort(np.abs(model.layers[1].params["W"]).ravel(), kind="stable")[:zeroed]
        assert sorted(np.flatnonzero(W.ravel() == 0)) == sorted(reference)


def test_weight_noise_is_relative_to_each_layer_and_zero_changes_nothing(cnn):
    assert_untouched(add_weight_noise(cnn, 0.0, rng=0), snapshot(cnn))
    noisy = add_weight_noise(cnn, 0.1, rng=0)
    for i in (0, 5, 6):
        w = cnn.layers[i].params["W"]
        added = noisy.layers[i].params["W"] - w
        assert added.std() == pytest.approx(0.1 * w.std(), rel=0.35)


def test_a_temperature_of_one_removes_it(cnn, x):
    hot = set_temperature(cnn, 4.0)
    assert hot.meta["temperature"] == 4.0
    plain = set_temperature(hot, 1)
    assert "temperature" not in plain.meta
    np.testing.assert_allclose(plain.predict(x), cnn.predict(x), rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda m: switch_off(m, 2, 0), "ReLU #3 has no units"),
    (lambda m: switch_off(m, 9, 0), "from 0 to 7, got 9"),
    (lambda m: switch_off(m, 1.0, 0), "from 0 to 7, got 1.0"),
    (lambda m: switch_off(m, 0, 4), "Conv2D #1 has units 0 to 3, got unit 4"),
    (lambda m: scale_unit(m, 5, 0, float("inf")), "factor must be a finite number"),
    (lambda m: prune(m, 1.5), r"fraction must be in \[0, 1\], got 1.5"),
    (lambda m: add_weight_noise(m, -0.1), "sigma must be a finite number >= 0"),
    (lambda m: set_temperature(m, 0), "temperature must be a finite number > 0, got 0"),
    (lambda m: set_temperature(m, "hot"), "temperature must be a finite number > 0, got 'hot'"),
    (lambda m: prune(m, True), r"fraction must be in \[0, 1\], got True"),
    (lambda m: scale_unit(m, 5, 0, None), "factor must be a finite number, got None"),
])
def test_bad_arguments_are_refused_naming_them(cnn, call, message):
    with pytest.raises(ValueError, match=message):
        call(cnn)


def test_a_sigmoid_model_or_a_regression_takes_no_softmax_temperature():
    model = Sequential([Flatten(), Dense(3), Sigmoid()], input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="ends in a Sigmoid or predicts raw values"):
        set_temperature(model, 2.0)
    regression = Sequential([Flatten(), Dense(3)], input_shape=(1, 4, 4))
    regression.compile("sgd", "mse")
    with pytest.raises(ValueError, match="a regression"):
        set_temperature(regression, 2.0)


def test_a_new_output_layer_drops_the_old_temperature(cnn):
    from core.transfer import new_output_layer
    assert "temperature" not in new_output_layer(set_temperature(cnn, 3.0), 5).meta
