"""A surgery session (core.surgery_history): steps on copies, exact undo and reset, saved with the model."""
import numpy as np
import pytest
from model_weights import assert_same_weights, weights_of

from core import Sequential, load_model
from core.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax
from core.surgery import prune
from core.surgery_history import Step, SurgeryHistory


@pytest.fixture
def cnn():
    model = Sequential([Conv2D(4, 3), BatchNorm(), ReLU(), MaxPool2D(2), Flatten(), Dense(8, activation="relu"),
                        Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile("adam", "crossentropy")
    model.meta["class_names"] = ["a", "b", "c"]
    return model


@pytest.fixture
def x():
    return np.random.default_rng(0).random((20, 1, 8, 8)).astype(np.float32)


STEPS = [Step("switch_off", {"layer": 0, "unit": 1}), Step("scale_unit", {"layer": 5, "unit": 2, "factor": 0.5}),
         Step("shift_bias", {"layer": 6, "unit": 0, "delta": -1.5}), Step("prune", {"fraction": 0.4}),
         Step("prune", {"fraction": 0.25, "per_layer": True}), Step("add_weight_noise", {"sigma": 0.3, "rng": 7}),
         Step("set_temperature", {"temperature": 2.5})]


def test_the_original_is_bit_for_bit_unchanged_after_every_step(cnn, x):
    before, meta, probs = weights_of(cnn), dict(cnn.meta), cnn.predict(x)
    history = SurgeryHistory(cnn)
    for step in STEPS:
        history.apply(step)
    assert_same_weights(cnn, before)
    assert cnn.meta == meta and "surgery" not in cnn.meta
    np.testing.assert_array_equal(cnn.predict(x), probs)
    assert history.current is not cnn and len(history) == len(STEPS)


def test_undo_gives_back_exactly_the_model_before_each_step(cnn, x):
    history = SurgeryHistory(cnn)
    states = []
    for step in STEPS:
        states.append((weights_of(history.current), dict(history.current.meta), history.current.predict(x)))
        history.apply(step)
    for weights, meta, probs in reversed(states):
        model = history.undo()
        assert_same_weights(model, weights)
        assert model.meta == meta
        np.testing.assert_array_equal(model.predict(x), probs)
    assert history.current is cnn and history.undo() is None


def test_reset_goes_back_to_the_original(cnn):
    history = SurgeryHistory(cnn)
    history.apply(STEPS[0])
    history.apply(STEPS[3])
    assert history.reset() is cnn and history.current is cnn and len(history) == 0


def test_pruning_nothing_through_the_history_changes_nothing(cnn, x):
    history = SurgeryHistory(cnn)
    model = history.apply(Step("prune", {"fraction": 0.0}))
    assert_same_weights(model, weights_of(cnn))
    np.testing.assert_array_equal(model.predict(x), cnn.predict(x))


def test_each_step_is_described_naming_the_layer_and_unit(cnn):
    history = SurgeryHistory(cnn)
    for step in STEPS:
        history.apply(step)
    assert history.descriptions == [
        "Switched off filter 1 of Conv2D #1", "Scaled the weights of neuron 2 of Dense #6 by ×0.5",
        "Shifted the bias of neuron 0 of Dense #7 by -1.5", "Pruned 40% of the smallest weights across the model",
        "Pruned 25% of the smallest weights in every layer", "Added weight noise σ = 0.3 × each layer's spread",
        "Set the softmax temperature to 2.5"]


def test_a_refused_step_leaves_the_history_as_it_was(cnn):
    history = SurgeryHistory(cnn)
    history.apply(STEPS[0])
    current = history.current
    with pytest.raises(ValueError, match="Conv2D #1 has units 0 to 3, got unit 9"):
        history.apply(Step("switch_off", {"layer": 0, "unit": 9}))
    with pytest.raises(ValueError, match="ReLU #3 has no units"):
        history.apply(Step("scale_unit", {"layer": 2, "unit": 0, "factor": 2.0}))
    assert history.current is current and len(history) == 1
    with pytest.raises(ValueError, match="unknown surgery operation 'amputate'"):
        Step("amputate", {})
    with pytest.raises(ValueError, match=r"prune takes fraction, per_layer \(needs fraction\); got 'share'"):
        Step("prune", {"share": 0.5})
    with pytest.raises(ValueError, match=r"switch_off takes layer, unit \(needs layer, unit\); got 'layer'"):
        Step("switch_off", {"layer": 0})


def test_the_saved_copy_holds_the_change_and_the_steps_that_made_it(cnn, x, tmp_path):
    history = SurgeryHistory(cnn)
    history.apply(STEPS[0])
    edited = history.apply(STEPS[6])
    edited.save(tmp_path / "edited")
    loaded = load_model(tmp_path / "edited")
    assert_same_weights(loaded, weights_of(edited))
    np.testing.assert_array_equal(loaded.layers[0].params["W"][1], 0)
    np.testing.assert_allclose(loaded.predict(x), edited.predict(x), rtol=1e-6)
    assert loaded.meta["temperature"] == 2.5
    assert loaded.meta["surgery"] == [{"operation": "switch_off", "layer": 0, "unit": 1},
                                      {"operation": "set_temperature", "temperature": 2.5}]
    again = SurgeryHistory(loaded).apply(STEPS[3])      # a later session continues the record
    assert [s["operation"] for s in again.meta["surgery"]] == ["switch_off", "set_temperature", "prune"]


def test_pruning_a_model_without_weights_changes_nothing():
    model = Sequential([Flatten(), Softmax()], input_shape=(1, 2, 2))
    x = np.random.default_rng(0).random((3, 1, 2, 2)).astype(np.float32)
    for per_layer in (False, True):
        np.testing.assert_array_equal(prune(model, 0.5, per_layer=per_layer).predict(x), model.predict(x))


def test_a_long_session_keeps_few_models_and_undo_still_gives_back_exactly_each_one(cnn, x):
    history = SurgeryHistory(cnn, keep=3)
    expected = []
    for i in range(10):
        expected.append((weights_of(history.current), history.current.predict(x)))
        history.apply(Step("add_weight_noise", {"sigma": 0.2, "rng": i}) if i % 2 else
                      Step("switch_off", {"layer": 5, "unit": i % 8}))
    kept = lambda: sum(model is not None for _step, _text, model in history._done)   # noqa: E731
    assert kept() == 3
    for weights, probs in reversed(expected):
        model = history.undo()
        assert_same_weights(model, weights)
        np.testing.assert_array_equal(model.predict(x), probs)
        assert kept() <= 3
    assert history.current is cnn
