"""Comparing a model's weights bit for bit: what tests of operations on copies assert the original kept."""
import numpy as np


def weights_of(model):
    """A copy of every weight of ``model``, keyed as ``get_weights`` keys them."""
    return {k: v.copy() for k, v in model.get_weights().items()}


def assert_same_weights(model, weights):
    """``model`` has exactly these weights: the same keys, the same bits."""
    got = model.get_weights()
    assert got.keys() == weights.keys()
    for key, value in weights.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
