"""The named presets: what they are made of, and that each builds, runs and round-trips."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from core import Sequential, zoo
from core.layers import BatchNorm, Conv2D, Dense, Dropout, ReLU

NAMES = ["mlp", "mlp_wide", "cnn_small", "lenet5", "alexnet_mini", "vgg_mini"]


def test_names():
    assert zoo.names() == NAMES


# Parameter counts worked out by hand from DESIGN.md's descriptions, for 1x28x28 inputs and 10 classes.
PARAMS = {
    "mlp": (784 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10),
    "mlp_wide": (784 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 10 + 10),
    "cnn_small": (5 * 9 + 5) + (5 * 13 * 13 * 100 + 100) + (100 * 10 + 10),
    "lenet5": (20 * 25 + 20) + (50 * 20 * 25 + 50) + (50 * 4 * 4 * 500 + 500) + (500 * 10 + 10),
    "alexnet_mini": (32 * 16 + 32) + (64 * 32 * 9 + 64) + (128 * 64 * 9 + 128) + (128 * 4 * 4 * 1024 + 1024)
                    + (1024 * 10 + 10),
}


@pytest.mark.parametrize("name", PARAMS)
def test_parameter_counts_match_the_design(name):
    assert zoo.build(name).count_params() == PARAMS[name]


def test_conv_shapes_of_alexnet_mini():
    model = zoo.build("alexnet_mini")
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    assert [c.output_shape for c in convs] == [(32, 13, 13), (64, 7, 7), (128, 4, 4)]
    assert all(c.activation == "relu" for c in convs)


def test_vgg_mini_has_3x3_convs_batchnorm_and_dropout():
    layers = zoo.build("vgg_mini").layers
    convs = [layer for layer in layers if isinstance(layer, Conv2D)]
    assert len(convs) >= 4 and all(c.kernel == (3, 3) for c in convs)
    assert any(isinstance(layer, BatchNorm) for layer in layers)
    assert any(isinstance(layer, Dropout) for layer in layers)


def test_lenet5_relu_only_after_the_first_dense():
    model = zoo.build("lenet5")
    relu = [i for i, layer in enumerate(model.layers)
            if isinstance(layer, ReLU) or getattr(layer, "activation", None) == "relu"]
    first_dense = next(i for i, layer in enumerate(model.layers) if isinstance(layer, Dense))
    assert relu == [first_dense]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("input_shape, classes", [((1, 28, 28), 10), ((3, 32, 32), 5)], ids=["mnist", "rgb32"])
def test_build_runs_and_gives_probabilities(name, input_shape, classes):
    model = zoo.build(name, input_shape=input_shape, classes=classes, seed=0)
    assert model.optimizer is None                      # uncompiled
    assert model.output_shape == (classes,)
    x = np.random.default_rng(0).random((2, *input_shape)).astype(np.float32)
    p = model.predict(x)
    assert p.shape == (2, classes) and p.dtype == np.float32
    assert_allclose(p.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_and_seed(name):
    model = zoo.build(name, seed=3)
    assert Sequential.from_config(model.get_config()).get_config() == model.get_config()
    twin = zoo.build(name, seed=3)
    for k, v in model.get_weights().items():
        assert_array_equal(twin.get_weights()[k], v)


@pytest.mark.parametrize("name", NAMES)
def test_describe(name):
    assert isinstance(zoo.describe(name), str) and zoo.describe(name)


def test_unknown_name():
    with pytest.raises(ValueError, match="resnet"):
        zoo.build("resnet")
    with pytest.raises(ValueError, match="cnn_small"):
        zoo.describe("resnet")


def test_a_typo_gets_the_nearest_name():
    with pytest.raises(ValueError, match="unknown model 'lenet55'; did you mean 'lenet5'"):
        zoo.build("lenet55")
    assert zoo.unknown("cnn") == "unknown model 'cnn'; did you mean 'cnn_small'?"


@pytest.mark.parametrize("name", zoo.names())
def test_preset_of_names_each_preset_at_any_input_size_and_class_count(name):
    assert zoo.preset_of(zoo.build(name)) == name
    assert zoo.preset_of(zoo.build(name, input_shape=(3, 32, 32), classes=4)) == name


def test_preset_of_a_changed_or_hand_built_model_is_none():
    from core.layers import Flatten, Softmax

    changed = Sequential([Flatten(), Dense(100, "relu"), Dense(99, "relu"), Dense(10), Softmax()],
                         input_shape=(1, 28, 28))
    assert zoo.preset_of(changed) is None
    assert zoo.preset_of(Sequential([Flatten(), Dense(10)], input_shape=(1, 8, 8))) is None
