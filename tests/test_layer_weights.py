"""Per-layer get_weights()/set_weights() as Keras's lists, and Sequential.pop()."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import Sequential, ShapeError, TrainingError
from core.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax
from core.optimizers import SGD


def model():
    return Sequential([Conv2D(4, 3), BatchNorm(), ReLU(), MaxPool2D(2), Flatten(), Dense(5), Softmax()],
                      input_shape=(1, 8, 8), seed=0)


def test_get_weights_lists_copies_in_the_documented_order():
    m = model()
    conv, bn, dense = m.layers[0], m.layers[1], m.layers[5]
    assert [w.shape for w in conv.get_weights()] == [(4, 1, 3, 3), (4,)]
    assert [w.shape for w in dense.get_weights()] == [(36, 5), (5,)]
    got = bn.get_weights()
    for value, name in zip(got, ("gamma", "beta", "mean", "var")):
        assert_array_equal(value, {**bn.params, **bn.buffers}[name])
    got[0][:] = 7   # a copy, as Keras's: changing it changes nothing in the layer
    assert not (bn.params["gamma"] == 7).any()
    assert m.layers[2].get_weights() == [] and m.layers[4].get_weights() == []


def test_set_weights_copies_into_the_layer_and_the_model_uses_them(rng):
    m = model()
    dense = m.layers[5]
    w, b = rng.standard_normal((36, 5)), rng.standard_normal(5)
    dense.set_weights([w, b])
    assert_array_equal(dense.params["W"], w.astype(np.float32))
    assert dense.params["W"].dtype == np.float32
    assert_array_equal(m.get_weights()["5.b"], b.astype(np.float32))
    twin = model()
    for a, b_ in zip(m.layers, twin.layers):
        b_.set_weights(a.get_weights())
    x = rng.random((3, 1, 8, 8), dtype=np.float32)
    assert_array_equal(m.predict(x), twin.predict(x))


@pytest.mark.parametrize("weights, message", [
    ([np.zeros((36, 5))], r"Dense #6: set_weights takes 2 arrays \(W, b\), got 1"),
    ([np.zeros((36, 4)), np.zeros(5)], r"Dense #6: set_weights: W must have shape \(36, 5\), got \(36, 4\)"),
    ([np.zeros((36, 5)), np.zeros((1, 5))], r"Dense #6: set_weights: b must have shape \(5\), got \(1, 5\)"),
    ([np.zeros((36, 5)), np.array(["a"] * 5)], r"Dense #6: set_weights: b must hold numbers, got <U1"),
    (np.zeros((36, 5)), r"Dense #6: set_weights takes a list of arrays \(W, b\)"),
])
def test_set_weights_refuses_wrong_arrays_naming_the_layer_and_weight(weights, message):
    m = model()
    before = m.layers[5].get_weights()
    with pytest.raises(ShapeError, match=message):
        m.layers[5].set_weights(weights)
    for kept, now in zip(before, m.layers[5].get_weights()):
        assert_array_equal(kept, now)


def test_set_weights_on_a_layer_not_built_yet_says_so():
    with pytest.raises(ShapeError, match=r"Dense: set_weights takes 0 arrays \(none: the layer is not built yet"):
        Dense(3).set_weights([np.zeros((2, 3)), np.zeros(3)])
    assert Dense(3).get_weights() == []


def test_pop_removes_the_last_layer_and_the_model_stays_usable(tiny_data):
    m = Sequential([Flatten(), Dense(16, "relu"), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    kept = {k: v.copy() for k, v in m.get_weights().items()}
    popped = m.pop()
    assert isinstance(popped, Softmax) and len(m.layers) == 3 and m.output_shape == (3,)
    for key, value in m.get_weights().items():
        assert_array_equal(value, kept[key], err_msg=key)   # an untrained head is not redrawn
    m.pop()
    assert m.output_shape == (16,)
    m.add(Dense(3))
    m.add(Softmax())
    m.compile(SGD(lr=0.1), "crossentropy")
    history = m.fit(*tiny_data, epochs=3, batch_size=16, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert m.predict(tiny_data[0][:2]).shape == (2, 3)


def test_pop_keeps_a_compiled_models_weights_and_optimizer_state(tiny_data):
    m = Sequential([Flatten(), Dense(16, "relu"), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    m.compile(SGD(lr=0.1, momentum=0.9), "crossentropy")
    m.fit(*tiny_data, epochs=1, batch_size=16, seed=0)
    kept = {k: v.copy() for k, v in m.get_weights().items()}
    m.pop()
    assert m.get_weights().keys() == kept.keys()
    for key, value in m.get_weights().items():
        assert_array_equal(value, kept[key], err_msg=key)
    assert m.evaluate(*tiny_data)["accuracy"] > 0.5   # the network ends in logits now: same argmax


def test_pop_of_an_empty_model_is_a_clear_error():
    m = Sequential([Flatten()], input_shape=(1, 8, 8))
    m.pop()
    with pytest.raises(TrainingError, match="pop: the model has no layers to remove"):
        m.pop()


def test_a_layer_added_after_pop_gets_fresh_optimizer_slots(tiny_data):
    m = Sequential([Flatten(), Dense(16, "relu"), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    m.compile(SGD(lr=0.1, momentum=0.9), "crossentropy")
    m.fit(*tiny_data, epochs=1, batch_size=16, seed=0)
    m.pop()
    m.pop()
    m.add(Dense(8, "relu"))    # the position of the old Dense(3), another shape: its momentum must not carry over
    m.add(Dense(3))
    m.fit(*tiny_data, epochs=1, batch_size=16, seed=0)
    assert m.optimizer.state[(2, "W")]["v"].shape == (16, 8)
