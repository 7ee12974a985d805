"""core.transfer: a model meets another dataset (does it fit?), and a new output layer for new classes."""
import numpy as np
import pytest

from core import MismatchError, NumpynetError, ShapeError, zoo
from core.datasets import Dataset
from core.layers import Dense, Flatten, ReLU, Softmax
from core.model import Sequential
from core.transfer import Mismatch, check, new_output_layer, require_match

DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


def dataset(name="mnist", names=DIGITS, shape=(1, 28, 28), n=20):
    rng = np.random.default_rng(0)
    x = rng.random((n, *shape), dtype=np.float32)
    y = np.arange(n) % len(names)
    return Dataset(name, x, y, x[:5], y[:5], list(names), "test")


def digits_model(shape=(1, 28, 28), classes=10):
    model = zoo.build("mlp", input_shape=shape, classes=classes, seed=0)
    model.meta.update(dataset="mnist", class_names=DIGITS[:classes])
    return model


def test_a_model_fits_its_own_kind_of_data():
    assert not check(digits_model(), dataset())
    require_match(digits_model(), dataset())


def test_an_untrained_model_without_class_names_takes_the_datasets():
    assert not check(zoo.build("mlp", seed=0), dataset("fashion-mnist", FASHION))


def test_same_shapes_other_class_names_is_a_mismatch_of_names_only():
    found = check(digits_model(), dataset("fashion-mnist", FASHION))
    assert found and found.names and found.only_names and not found.input and not found.classes
    text = found.describe()
    assert "trained on mnist" in text and "fashion-mnist" in text and "T-shirt/top" in text and "0, 1" in text
    with pytest.raises(MismatchError, match="fashion-mnist"):
        require_match(digits_model(), dataset("fashion-mnist", FASHION))
    require_match(digits_model(), dataset("fashion-mnist", FASHION), names_may_differ=True)


@pytest.mark.parametrize("classes", [2, 26])
def test_another_number_of_classes_is_named(classes):
    found = check(digits_model(), dataset("letters", [chr(65 + i) for i in range(classes)]))
    assert found.classes and not found.names and not found.only_names
    assert f"10 outputs; letters has {classes} classes" in found.describe()
    with pytest.raises(MismatchError, match="10 outputs"):
        require_match(digits_model(), dataset("letters", [chr(65 + i) for i in range(classes)]),
                      names_may_differ=True)


@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 28, 28)])
def test_another_input_shape_is_named(shape):
    found = check(digits_model(), dataset("other", DIGITS, shape=shape))
    assert found.input and not found.only_names
    assert f"takes 1×28×28 images; those of other are {'×'.join(map(str, shape))}" in found.describe()
    with pytest.raises(MismatchError, match="1×28×28") as raised:
        require_match(digits_model(), dataset("other", DIGITS, shape=shape), names_may_differ=True)
    assert isinstance(raised.value, NumpynetError) and isinstance(raised.value, ValueError)


def test_new_output_layer_keeps_the_features_and_replaces_the_head():
    model = zoo.build("lenet5", seed=0)
    model.meta.update(dataset="mnist", class_names=DIGITS, metrics={"test_accuracy": 0.99}, preprocessing="mnist")
    model.train_history = {"loss": [0.3, 0.1]}
    twin = new_output_layer(model, 3, ["a", "b", "c"], seed=1)
    assert twin.output_shape == (3,)
    assert [type(layer) for layer in twin.layers] == [type(layer) for layer in model.layers]
    old, new = model.get_weights(), twin.get_weights()
    head = max(i for i, layer in enumerate(model.layers) if isinstance(layer, Dense))
    for key, value in old.items():
        if int(key.split(".")[0]) < head:
            np.testing.assert_array_equal(new[key], value)
            assert new[key] is not value        # a copy: training one does not change the other
    assert new[f"{head}.W"].shape == (500, 3) and np.abs(new[f"{head}.W"]).sum() > 0
    assert twin.meta == {"class_names": ["a", "b", "c"], "preprocessing": "mnist"}
    assert twin.train_history == {} and twin.optimizer is None
    assert model.output_shape == (10,) and model.meta["class_names"] == DIGITS   # the original is untouched
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    probs = twin.predict(x)
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_new_output_layer_fits_the_new_dataset_and_trains():
    ds = dataset("letters", ["A", "B", "C"])
    twin = new_output_layer(digits_model(), ds.num_classes, ds.class_names, seed=0)
    assert not check(twin, ds)
    twin.compile("sgd", "crossentropy")
    twin.fit(ds.x_train, ds.y_train, epochs=1, batch_size=8)


def test_new_output_layer_without_names_numbers_the_classes():
    assert new_output_layer(digits_model(), 4).meta["class_names"] == ["0", "1", "2", "3"]


def test_new_output_layer_refuses_what_it_cannot_do():
    with pytest.raises(ShapeError, match="no Dense layer"):
        new_output_layer(Sequential([Flatten(), ReLU(), Softmax()], input_shape=(1, 4, 4)), 3)
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        new_output_layer(digits_model(), 3, ["a", "b"])
    with pytest.raises(ValueError, match="at least 1"):
        new_output_layer(digits_model(), 0)


def test_a_dataset_name_ending_in_s_reads_well():
    found = Mismatch(dataset="halves", model_dataset="", model_input=(1, 28, 28), data_input=(1, 4, 4),
                     model_classes=10, data_classes=10, model_names=(), data_names=())
    assert "takes 1×28×28 images; those of halves are 1×4×4." in found.describe()
    assert "'s" not in found.describe()
