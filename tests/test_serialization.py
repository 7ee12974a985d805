"""Saving and loading a model folder (model.json + weights.npz), and every way a file can be bad."""
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import ModelFileError, NumpynetError, Sequential, load_model, serialization
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Softmax
from core.optimizers import Adam


def trained_model(x, y):
    model = Sequential([Conv2D(4, 3, padding="same", activation="relu"), BatchNorm(), MaxPool2D(2), Flatten(),
                        Dropout(0.2), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(Adam(lr=0.01, beta1=0.85), "crossentropy")
    model.meta.update(class_names=["zero", "one", "two"], dataset="tiny",
                      preprocessing={"scale": 1 / 255, "invert": False})
    model.fit(x, y, epochs=2, batch_size=16, seed=0)
    return model


@pytest.fixture
def saved(tmp_path, tiny_data):
    model = trained_model(*tiny_data)
    path = model.save(tmp_path / "model")
    return model, path


def test_round_trip_predicts_identically(saved, tiny_data):
    model, path = saved
    x, y = tiny_data
    loaded = load_model(path)
    assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    for k, v in model.get_weights().items():
        assert_array_equal(loaded.get_weights()[k], v)
        assert loaded.get_weights()[k].dtype == np.float32
    assert loaded.get_config() == model.get_config()


def test_round_trip_keeps_meta_history_and_optimizer(saved):
    model, path = saved
    loaded = load_model(path)
    assert loaded.meta["class_names"] == ["zero", "one", "two"]
    assert loaded.meta["dataset"] == "tiny"
    assert loaded.meta["preprocessing"] == {"scale": 1 / 255, "invert": False}
    assert "created" in loaded.meta
    assert loaded.train_history == model.train_history and len(loaded.train_history["loss"]) == 2
    assert isinstance(loaded.optimizer, Adam)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss.get_config() == {"type": "CrossEntropy"}


def test_model_json_is_plain_json_with_a_version(saved):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    assert doc["format_version"] == serialization.FORMAT_VERSION
    assert doc["architecture"]["input_shape"] == [1, 8, 8]
    assert [entry["type"] for entry in doc["architecture"]["layers"]][:2] == ["Conv2D", "BatchNorm"]


def test_a_loaded_model_trains_on(saved, tiny_data):
    _, path = saved
    loaded = load_model(path)
    history = loaded.fit(*tiny_data, epochs=1, seed=0)
    assert np.isfinite(history.history["loss"]).all()


def test_saving_over_a_model_replaces_it(saved, tiny_data):
    model, path = saved
    model.fit(*tiny_data, epochs=1, seed=1)
    model.save(path)
    assert_array_equal(load_model(path).predict(tiny_data[0]), model.predict(tiny_data[0]))
    assert sorted(p.name for p in path.parent.iterdir()) == ["model"]


def test_the_loss_is_restored(tmp_path):
    model = Sequential([Flatten(), Dense(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    model.compile("rmsprop", "mse")
    loaded = load_model(model.save(tmp_path / "mse"))
    assert loaded.loss.get_config() == {"type": "MSE"}
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


@pytest.mark.parametrize("key", ["optimizer", "history", "architecture", "format_version"])
def test_meta_cannot_overwrite_the_format(saved, key):
    """A meta entry named like a part of the format (a GUI might keep a description under 'optimizer')
    must neither corrupt the saved file nor be silently dropped: refuse it, or keep both."""
    model, path = saved
    model.meta[key] = "a description"
    try:
        model.save(path)
    except (ValueError, NumpynetError):
        pass
    loaded = load_model(path)
    assert isinstance(loaded.optimizer, Adam)
    assert loaded.train_history == model.train_history


def test_an_uncompiled_model_saves_and_loads(tmp_path):
    model = Sequential([Flatten(), Dense(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    loaded = load_model(model.save(tmp_path / "plain"))
    assert_array_equal(loaded.get_weights()["1.W"], model.get_weights()["1.W"])


# ----- atomic save ---------------------------------------------------------------------------

def _assert_intact(path, model, x):
    assert_array_equal(load_model(path).predict(x), model.predict(x))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "a temporary folder was left behind"


def test_a_full_disk_during_save_keeps_the_previous_model(saved, tiny_data, monkeypatch):
    model, path = saved
    old = load_model(path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(ModelFileError, match=f"{path}.*No space left"):
        model.save(path)
    monkeypatch.undo()
    _assert_intact(path, old, tiny_data[0])


def test_any_failure_during_save_keeps_the_previous_model(saved, tiny_data, monkeypatch):
    model, path = saved
    old = load_model(path)

    def crash(*args, **kwargs):
        raise RuntimeError("killed mid-save")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(RuntimeError):
        model.save(path)
    monkeypatch.undo()
    _assert_intact(path, old, tiny_data[0])


def test_meta_that_is_not_json_fails_the_save_cleanly(saved, tiny_data):
    model, path = saved
    old = load_model(path)
    model.meta["tags"] = {"a", "b"}   # a set: not JSON
    with pytest.raises((ModelFileError, TypeError), match="set"):
        model.save(path)
    _assert_intact(path, old, tiny_data[0])


# ----- bad files ---------------------------------------------------------------------------------

def _edit_json(path, change):
    doc = json.loads((path / "model.json").read_text())
    change(doc)
    (path / "model.json").write_text(json.dumps(doc))


def _refused(path, *pieces):
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    for piece in pieces:
        assert piece in message, message
    return message


def test_missing_folder(tmp_path):
    _refused(tmp_path / "nowhere", str(tmp_path / "nowhere"), "no such model folder")


def test_missing_model_json(saved):
    _, path = saved
    (path / "model.json").unlink()
    _refused(path, str(path / "model.json"), "missing")


def test_missing_weights(saved):
    _, path = saved
    (path / "weights.npz").unlink()
    _refused(path, str(path / "weights.npz"), "missing")


def test_invalid_json(saved):
    _, path = saved
    (path / "model.json").write_text('{"format": "numpynet-model", ')
    _refused(path, str(path / "model.json"), "not valid JSON")


def test_json_of_another_program(saved):
    _, path = saved
    (path / "model.json").write_text('{"name": "something else"}')
    _refused(path, str(path / "model.json"), "not a numpynet model")


def test_unknown_layer_type(saved):
    _, path = saved
    _edit_json(path, lambda doc: doc["architecture"]["layers"][2].update(type="MaxPool3D"))
    _refused(path, str(path / "model.json"), "layer 3", "MaxPool3D")


def test_newer_format_version(saved):
    _, path = saved
    _edit_json(path, lambda doc: doc.update(format_version=serialization.FORMAT_VERSION + 1))
    _refused(path, str(path / "model.json"), f"format version {serialization.FORMAT_VERSION + 1}", "newer")


def test_architecture_of_the_wrong_kind(saved):
    _, path = saved
    _edit_json(path, lambda doc: doc.update(architecture=["Conv2D"]))
    _refused(path, str(path))


def test_unknown_optimizer(saved):
    _, path = saved
    _edit_json(path, lambda doc: doc["optimizer"].update(type="LBFGS"))
    _refused(path, str(path), "LBFGS")


def test_weight_shape_mismatch(saved):
    _, path = saved
    _edit_json(path, lambda doc: doc["architecture"]["layers"][5]["config"].update(units=4))
    _refused(path, str(path), "Dense #6", "(64, 3)", "(64, 4)")


def test_weights_missing_an_array(saved):
    _, path = saved
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if k != "5.b"}
    np.savez(path / "weights.npz", **arrays)
    _refused(path, str(path), "5.b")


def test_weights_holding_python_objects(saved):
    _, path = saved
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["5.W"] = np.array([{"payload": "code"}], dtype=object)
    np.savez(path / "weights.npz", **arrays)   # np.savez pickles object arrays
    _refused(path, str(path / "weights.npz"), "Python objects")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_weights(saved, cut):
    _, path = saved
    data = (path / "weights.npz").read_bytes()
    (path / "weights.npz").write_bytes(data[:int(len(data) * cut)])
    _refused(path, str(path / "weights.npz"), "not a readable weights archive")


def test_corrupt_weights(saved):
    _, path = saved
    data = bytearray((path / "weights.npz").read_bytes())
    middle = len(data) // 3
    data[middle:middle + 64] = bytes(64)
    (path / "weights.npz").write_bytes(bytes(data))
    _refused(path, str(path / "weights.npz"))


def test_weights_file_that_is_not_an_archive(saved):
    """Random bytes are a damaged file, not 'Python objects': the message must not send the user astray."""
    _, path = saved
    (path / "weights.npz").write_bytes(b"this is not a zip archive at all")
    message = _refused(path, str(path / "weights.npz"))
    assert "Python objects" not in message
