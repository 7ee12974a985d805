"""core.dead_units: the share of units that passed nothing on for a whole batch, from the last forward pass."""
import numpy as np
import pytest

from core import Sequential
from core.dead_units import dead_units, share_dead
from core.layers import Conv2D, Dense, Flatten, ReLU, Sigmoid, Softmax


def _batch(n=16, shape=(1, 6, 6), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def test_a_large_negative_bias_kills_the_whole_layer():
    model = Sequential([Flatten(), Dense(8), ReLU(), Dense(3), Softmax()], input_shape=(1, 6, 6), seed=0)
    model.layers[1].params["b"][:] = -1e3
    model.forward(_batch(), training=True)
    assert dead_units(model) == {"ReLU #3": 1.0}


def test_a_healthy_layer_reports_none_dead_and_one_killed_unit_is_one_share():
    model = Sequential([Flatten(), Dense(8), ReLU(), Dense(3), Softmax()], input_shape=(1, 6, 6), seed=0)
    model.layers[1].params["b"][:] = 1e3
    model.forward(_batch(), training=True)
    assert dead_units(model) == {"ReLU #3": 0.0}
    model.layers[1].params["b"][2] = -1e3
    model.forward(_batch(), training=True)
    assert dead_units(model) == {"ReLU #3": 1 / 8}


def test_a_conv_unit_is_a_filter_and_fused_activations_count():
    model = Sequential([Conv2D(4, 3, activation="relu"), Flatten(), Dense(5, activation="tanh"), Dense(2)],
                       input_shape=(1, 6, 6), seed=0)
    model.layers[0].params["b"][:] = [5.0, -1e3, 5.0, 5.0]
    model.layers[2].params["W"] *= 1e-4                       # the middle three stay in tanh's slope
    model.layers[2].params["b"][:] = [1e3, 0, 0, 0, -1e3]     # saturated at both ends
    model.forward(_batch(), training=True)
    assert dead_units(model) == {"Conv2D #1 (relu)": 0.25, "Dense #3 (tanh)": 0.4}


def test_a_unit_alive_for_one_image_of_the_batch_is_alive():
    dead = np.ones((4, 3), bool)
    dead[2, 1] = False
    assert share_dead(dead) == pytest.approx(2 / 3)


def test_sigmoid_saturated_low_is_dead_and_layers_not_run_are_left_out():
    model = Sequential([Flatten(), Dense(4), Sigmoid(), Dense(2)], input_shape=(1, 6, 6), seed=0)
    assert dead_units(model) == {}
    model.layers[1].params["b"][:] = [-1e3, 0, 0, 0]
    model.forward(_batch(), training=True)
    assert dead_units(model) == {"Sigmoid #3": 0.25}
