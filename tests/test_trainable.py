"""layer.trainable = False freezes a layer, as in Keras: fit leaves its weights bit for bit, the optimizer
keeps no slots for it, a frozen BatchNorm runs in inference mode; summary counts it, saving keeps it."""
import json
import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import ArgumentError, ModelFileError, Sequential, datasets, load_model
from core.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, Softmax
from core.optimizers import SGD, Adam
from core.transfer import new_output_layer

LENET = os.path.join(os.path.dirname(__file__), "..", "saved_models", "lenet5-mnist")


def net(optimizer, batchnorm=True):
    layers = [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(16),
              *([BatchNorm()] if batchnorm else []), Dense(3), Softmax()]
    model = Sequential(layers, input_shape=(1, 8, 8), seed=0)
    model.compile(optimizer, "crossentropy")
    return model


def frozen_copy(layer):
    return {k: v.copy() for k, v in {**layer.params, **layer.buffers}.items()}


@pytest.mark.parametrize("optimizer", [lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.01),
                                       lambda: Adam(lr=0.01)], ids=["sgd", "adam"])
@pytest.mark.parametrize("frozen", [0, 3, 4], ids=["first-conv", "middle-dense", "batchnorm"])
def test_fit_leaves_a_frozen_layer_bit_for_bit_and_trains_the_rest(tiny_data, optimizer, frozen):
    model = net(optimizer())
    model.layers[frozen].trainable = False
    before = frozen_copy(model.layers[frozen])
    others = {k: v.copy() for k, v in model.get_weights().items() if not k.startswith(f"{frozen}.")}
    model.fit(*tiny_data, epochs=2, batch_size=16, seed=0)
    after = frozen_copy(model.layers[frozen])
    for name in before:
        assert_array_equal(after[name], before[name], err_msg=name)
    changed = [k for k, v in others.items() if not np.array_equal(v, model.get_weights()[k])]
    assert changed, "the layers left trainable did not train"
    assert not [key for key in model.optimizer.state if key[0] == frozen], "the optimizer kept slots for it"


def test_a_frozen_batchnorm_runs_in_inference_mode_while_training(rng):
    bn = BatchNorm()
    model = Sequential([Dense(4), bn], input_shape=(3,))
    bn.buffers["mean"][:] = 0.5
    bn.buffers["var"][:] = 2.0
    bn.trainable = False
    x = rng.random((8, 3), dtype=np.float32)
    assert_array_equal(model.forward(x, training=True), model.forward(x, training=False))


def test_freezing_after_training_began_takes_effect_at_the_next_fit(tiny_data):
    model = net(SGD(lr=0.1, momentum=0.9))
    model.fit(*tiny_data, epochs=1, batch_size=16, seed=0)
    model.layers[0].trainable = False
    before = frozen_copy(model.layers[0])
    model.fit(*tiny_data, epochs=1, batch_size=16, seed=1)
    for name, value in frozen_copy(model.layers[0]).items():
        assert_array_equal(value, before[name], err_msg=name)


def test_summary_counts_trainable_and_non_trainable_parameters():
    model = net(SGD(), batchnorm=False)
    conv = 4 * 9 + 4
    total = model.count_params()
    model.layers[0].trainable = False
    text = model.summary()
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - conv:,}" in text
    assert f"Non-trainable params: {conv:,}" in text
    assert "Conv2D #1 (frozen)" in text


def test_trainable_survives_config_copy_save_and_load(tmp_path):
    model = net(SGD())
    model.layers[0].trainable = model.layers[4].trainable = False
    expect = [layer.trainable for layer in model.layers]
    assert [layer.trainable for layer in Sequential.from_config(model.get_config()).layers] == expect
    assert [layer.trainable for layer in model.copy().layers] == expect
    loaded = load_model(model.save(tmp_path / "m"))
    assert [layer.trainable for layer in loaded.layers] == expect


def test_trainable_must_be_true_or_false():
    with pytest.raises(ArgumentError, match=r"Dense: trainable must be True or False, got 'no'"):
        Dense(3).trainable = "no"


def test_a_model_file_with_a_bad_trainable_is_refused_naming_the_layer(tmp_path):
    path = net(SGD()).save(tmp_path / "m")
    doc = json.loads((path / "model.json").read_text())
    doc["architecture"]["layers"][3]["trainable"] = "no"
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"layer 4 \(Dense\): field 'trainable' must be true or false"):
        load_model(path)


@pytest.mark.slow
def test_fine_tuning_lenet5_on_fashion_mnist_with_frozen_convolutions(mnist):  # mnist: fails in CI without data
    fashion = datasets.load("fashion-mnist", root=os.environ["NUMPYNET_DATA"], download=False)
    model = new_output_layer(load_model(LENET), 10, fashion.class_names, seed=0)
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    for layer in convs:
        layer.trainable = False
    before = [frozen_copy(layer) for layer in convs]
    model.compile(SGD(lr=0.01, momentum=0.9), "crossentropy")
    model.fit(fashion.x_train[:3000], fashion.y_train[:3000], epochs=1, batch_size=64, seed=0)
    accuracy = model.evaluate(fashion.x_test[:2000], fashion.y_test[:2000])["accuracy"]
    assert accuracy > 0.6, f"fine-tuned accuracy {accuracy:.3f} (chance is 0.1)"
    for layer, saved in zip(convs, before):
        for name, value in frozen_copy(layer).items():
            assert_array_equal(value, saved[name], err_msg=f"{layer.name} {name}")
