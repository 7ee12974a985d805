"""Saving and loading a model folder (model.json + weights.npz), and every way a file can be bad."""
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from core import ModelFileError, NumpynetError, Sequential, load_model, model_json, serialization
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Softmax
from core.losses import Loss
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
    assert doc["format_version"] == model_json.FORMAT_VERSION
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
    _edit_json(path, lambda doc: doc.update(format_version=model_json.FORMAT_VERSION + 1))
    _refused(path, str(path / "model.json"), f"format version {model_json.FORMAT_VERSION + 1}", "newer")


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


# ----- save writes only where nothing is lost ----------------------------------------------------

def _snapshot(path):
    """Every file under ``path`` with its bytes (or the bytes of ``path`` itself if it is a file)."""
    if path.is_file():
        return path.read_bytes()
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


def _refused_save(model, path, *pieces):
    before = _snapshot(path) if path.exists() else None
    siblings = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else None
    with pytest.raises(ModelFileError) as info:
        model.save(path)
    for piece in (str(path), *pieces):
        assert piece in str(info.value), str(info.value)
    assert (_snapshot(path) if path.exists() else None) == before, "a refused save touched the path"
    if siblings is not None:
        assert sorted(p.name for p in path.parent.iterdir()) == siblings, "a refused save left something beside it"
    return str(info.value)


def test_save_refuses_a_folder_of_other_files(tmp_path, tiny_data):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years of work")
    (folder / "figures").mkdir()
    (folder / "figures" / "plot.png").write_bytes(b"png")
    _refused_save(trained_model(*tiny_data), folder, "thesis.txt", "nothing was written")


def test_replacing_a_model_keeps_the_users_other_files_in_its_folder(saved, tiny_data):
    model, path = saved
    (path / "notes.txt").write_text("lr 0.01 worked best")
    (path / "plots").mkdir()
    (path / "plots" / "loss.png").write_bytes(b"png")
    other = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=7)
    other.save(path)
    assert (path / "notes.txt").read_text() == "lr 0.01 worked best"
    assert (path / "plots" / "loss.png").read_bytes() == b"png"
    assert_array_equal(load_model(path).predict(tiny_data[0]), other.predict(tiny_data[0]))


def test_save_refuses_a_folder_whose_model_json_is_not_ours(tmp_path, tiny_data):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "model.json").write_text('{"framework": "keras"}')
    (folder / "weights.npz").write_bytes(b"their weights")
    _refused_save(trained_model(*tiny_data), folder, "model.json")


def test_save_refuses_a_plain_file_and_a_broken_link(tmp_path, tiny_data):
    model = trained_model(*tiny_data)
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    _refused_save(model, tmp_path / "report.pdf", "a file")
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    _refused_save(model, tmp_path / "link", "broken link")


def test_save_through_a_link_to_an_empty_folder_writes_into_that_folder(tmp_path, tiny_data):
    """A link to an empty folder is an empty folder to save in (it was refused with 'Not a directory');
    the link stays a link, to the folder now holding the model."""
    model = trained_model(*tiny_data)
    (tmp_path / "disk" / "empty").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "disk" / "empty")
    model.save(tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in (tmp_path / "disk" / "empty").iterdir()) == ["model.json", "weights.npz"]
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["empty"]
    assert_array_equal(load_model(tmp_path / "link").predict(tiny_data[0]), model.predict(tiny_data[0]))


def test_save_says_a_link_to_a_file_is_a_link_to_a_file(tmp_path, tiny_data):
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    (tmp_path / "link").symlink_to(tmp_path / "report.pdf")
    _refused_save(trained_model(*tiny_data), tmp_path / "link", "a link to a file")


def test_save_and_load_expand_the_home_folder(tmp_path, tiny_data, monkeypatch):
    """'~/models/x' is the user's folder, as load_folder reads it, not a folder named '~' in the cwd."""
    model = trained_model(*tiny_data)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    model.save("~/models/x")
    assert not (tmp_path / "~").exists()
    assert (tmp_path / "home" / "models" / "x" / "model.json").is_file()
    assert_array_equal(load_model("~/models/x").predict(tiny_data[0]), model.predict(tiny_data[0]))


def test_save_refuses_a_path_with_a_null_byte_as_a_model_file_error(tmp_path, tiny_data):
    with pytest.raises(ModelFileError, match="null"):
        trained_model(*tiny_data).save(str(tmp_path / "a\0b"))
    assert list(tmp_path.iterdir()) == []


def test_save_writes_into_an_empty_folder(tmp_path, tiny_data):
    model = trained_model(*tiny_data)
    (tmp_path / "empty").mkdir()
    model.save(tmp_path / "empty")
    assert_array_equal(load_model(tmp_path / "empty").predict(tiny_data[0]), model.predict(tiny_data[0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_save_refuses_an_empty_path_and_a_parent_that_is_a_file(tmp_path, tiny_data, monkeypatch):
    model = trained_model(*tiny_data)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stray.txt").write_text("x")
    with pytest.raises(ModelFileError, match="empty"):
        model.save("")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stray.txt"]
    _refused_save(model, tmp_path / "stray.txt" / "model", "stray.txt is a file")


@pytest.mark.parametrize("fresh", [True, False], ids=["new folder", "over a model"])
@pytest.mark.parametrize("calls, error", [
    (["mkdir", "rename", "replace"], OSError(13, "Permission denied")),
    (["rename", "replace"], OSError(30, "Read-only file system")),
    (["fsync"], OSError(28, "No space left on device")),
], ids=["read-only folder", "read-only file system", "full disk"])
def test_every_os_failure_is_a_model_file_error_and_keeps_what_was_there(saved, tiny_data, monkeypatch, fresh,
                                                                          calls, error):
    """Simulated: the tests may run as root, whom chmod does not stop."""
    import os
    model, path = saved
    target = path.parent / "new" if fresh else path
    before = load_model(path)

    def fail(*args, **kwargs):
        raise error

    for call in calls:
        monkeypatch.setattr(os, call, fail)
    with pytest.raises(ModelFileError) as info:
        model.save(target)
    monkeypatch.undo()
    assert str(target) in str(info.value) and error.strerror in str(info.value)
    assert not (path.parent / "new").exists()
    _assert_intact(path, before, tiny_data[0])


@pytest.mark.parametrize("value, words", [
    (float("nan"), "nan"), (float("inf"), "inf"), (np.float32("nan"), "nan"), ({"a", "b"}, "set"),
    (object(), "object"), ({1: "one"}, "key 1"), ({"deep": [1, {"x": float("-inf")}]}, "tags.deep[1].x"),
])
def test_meta_that_json_cannot_hold_is_refused_naming_it(saved, value, words):
    model, path = saved
    model.meta["tags"] = value
    _refused_save(model, path, "'tags", words)


def test_numpy_values_in_meta_are_saved_as_plain_json(saved):
    model, path = saved
    model.meta.update(best=np.float32(0.5), epochs=np.int64(3), curve=np.arange(3), pair=(1, 2))
    model.save(path)
    meta = load_model(path).meta
    assert (meta["best"], meta["epochs"], meta["curve"], meta["pair"]) == (0.5, 3, [0, 1, 2], [1, 2])


class HingeLoss(Loss):
    fuses_softmax = False

    def value_and_grad(self, out, y):
        return 0.0, np.zeros_like(out)


class Scale(Dense):   # a subclass the registry does not know
    pass


def test_a_custom_loss_layer_or_optimizer_is_refused_naming_it(tmp_path):
    from core.optimizers import SGD

    model = Sequential([Flatten(), Dense(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    model.compile("sgd", HingeLoss())
    _refused_save(model, tmp_path / "a", "HingeLoss", "loss")
    model.compile(type("MySGD", (SGD,), {})(lr=0.1), "mse")
    _refused_save(model, tmp_path / "b", "MySGD", "optimizer")
    model = Sequential([Flatten(), Scale(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    _refused_save(model, tmp_path / "c", "layer 2", "Scale")


def test_save_refuses_what_load_would_refuse(saved):
    model, path = saved
    model.meta["class_names"] = ["only", "two"]
    _refused_save(model, path, "class_names", "3 outputs")


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
@pytest.mark.parametrize("fresh", [True, False], ids=["new folder", "over a model"])
def test_saved_files_follow_the_umask(saved, umask, fresh):
    import os
    model, path = saved
    target = path.parent / "fresh" if fresh else path
    old = os.umask(umask)
    try:
        model.save(target)
    finally:
        os.umask(old)
    if fresh:
        assert target.stat().st_mode & 0o777 == 0o777 & ~umask
    for name in ("model.json", "weights.npz"):
        assert (target / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_train_refuses_a_bad_out_folder_before_training(tmp_path, capsys):
    from core.cli import main
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years of work")
    code = main(["train", "--model", "mlp", "--dataset", "mnist", "--epochs", "1", "--out", str(folder)])
    out, err = capsys.readouterr()
    assert code == 2 and "thesis.txt" in err and "Traceback" not in err
    assert "epoch" not in err, "it trained before finding out it could not save"
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.txt"]


# ----- loading refuses a bad file cheaply, naming the field ----------------------------------------

@pytest.mark.parametrize("units", [2_000_000, 10 ** 12])
def test_a_huge_layer_is_refused_before_anything_is_allocated(saved, units):
    import time
    import tracemalloc
    _, path = saved
    _edit_json(path, lambda doc: doc["architecture"]["layers"][5]["config"].update(units=units))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        _refused(path, "Dense #6", f"(64, {units})")
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 0.2 and peak < 5_000_000, (seconds, peak)


def _layer(i, **config):
    return lambda doc: doc["architecture"]["layers"][i]["config"].update(config)


MALFORMED = [
    (lambda d: d["architecture"]["layers"][2].update(type=5), ["layer 3", "'type'", "5"]),
    (lambda d: d["architecture"]["layers"][2].update(type=None), ["layer 3", "'type'"]),
    (lambda d: d["architecture"]["layers"][2].update(config=[2]), ["layer 3", "'config'"]),
    (lambda d: d["architecture"]["layers"].clear(), ["'architecture.layers' is empty"]),
    (lambda d: d.update(loss="CrossEntropy"), ["'loss'"]),
    (lambda d: d.update(loss={"type": 5}), ["'loss'"]),
    (lambda d: d.update(optimizer="adam"), ["'optimizer'"]),
    (lambda d: d.update(optimizer={"type": "Adam", "lr": True}), ["'optimizer'", "'lr'", "True"]),
    (lambda d: d.update(optimizer={"type": "Adam", "lr": "0.1"}), ["'optimizer'", "'lr'"]),
    (lambda d: d.update(optimizer={"type": "Adam", "lr": 1e400}), ["inf"]),
    (lambda d: d.update(optimizer={"type": "Adam", "momentum": 0.9}), ["'optimizer'", "'momentum'"]),
    (lambda d: d.update(format_version="1"), ["'format_version'", "positive integer", "'1'"]),
    (lambda d: d.update(format_version=0), ["'format_version'", "0"]),
    (lambda d: d.update(format_version=-5), ["'format_version'", "-5"]),
    (lambda d: d.update(format_version=True), ["'format_version'", "True"]),
    (lambda d: d.update(format_version=1.0), ["'format_version'", "1.0"]),
    (_layer(5, units=500.7), ["layer 6 (Dense)", "'units'", "500.7"]),
    (_layer(5, units="500"), ["layer 6 (Dense)", "'units'", "'500'"]),
    (_layer(5, units=None), ["layer 6 (Dense)", "'units'", "null"]),
    (_layer(5, units=True), ["layer 6 (Dense)", "'units'", "True"]),
    (_layer(5, units=-3), ["layer 6", "units"]),
    (_layer(5, bias=True), ["layer 6 (Dense)", "unknown field 'bias'"]),
    (lambda d: d["architecture"]["layers"][5]["config"].pop("units"), ["layer 6 (Dense)", "'units'", "missing"]),
    (_layer(0, kernel_size="3"), ["layer 1 (Conv2D)", "kernel_size"]),
    (_layer(0, kernel_size=[3, 3.5]), ["layer 1 (Conv2D)", "'kernel_size'"]),
    (_layer(0, padding=None), ["layer 1 (Conv2D)", "'padding'", "null"]),
    (_layer(4, rate="0.2"), ["layer 5 (Dropout)", "'rate'"]),
    (_layer(4, rate=float("nan")), ["rate", "nan"]),
    (_layer(1, momentum=[0.9]), ["layer 2 (BatchNorm)", "'momentum'"]),
    (lambda d: d["architecture"].update(input_shape=[1, 8.0, 8]), ["input_shape"]),
    (lambda d: d["architecture"].update(input_shape=[1, 8, 8, 1]), ["Conv2D #1"]),
    (lambda d: d.update(class_names=5), ["'class_names'", "5"]),
    (lambda d: d.update(class_names=[0, 1, 2]), ["'class_names'", "strings"]),
    (lambda d: d.update(class_names=["a", "b"]), ["'class_names'", "2 names", "3 outputs"]),
    (lambda d: d.update(history=[1, 2]), ["'history'"]),
    (lambda d: d.update(history={"loss": "low"}), ["'history.loss'"]),
    (lambda d: d.update(history={"loss": [0.5, None]}), ["'history.loss'"]),
    (lambda d: d.update(dataset=["mnist"]), ["'dataset'"]),
    (lambda d: d.update(metrics=[0.9]), ["'metrics'"]),
    (lambda d: d.update(weights="../../etc/passwd"), ["'weights'"]),
]


@pytest.mark.parametrize("change, pieces", MALFORMED, ids=[f"{i}: {' '.join(p)}" for i, (_, p) in enumerate(MALFORMED)])
def test_every_malformed_field_is_named(saved, change, pieces):
    _, path = saved
    _edit_json(path, change)
    _refused(path, str(path / "model.json"), *pieces)


def test_model_json_that_is_a_folder(saved):
    _, path = saved
    (path / "model.json").unlink()
    (path / "model.json").mkdir()
    _refused(path, str(path / "model.json"))


def test_weights_whose_header_claims_more_data_than_follows(saved):
    """The header's shape matches the architecture, the data is short: refused from the sizes, unread."""
    import io
    import zipfile
    _, path = saved
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    with zipfile.ZipFile(path / "weights.npz", "w") as archive:
        for key, arr in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, arr)
            data = buffer.getvalue()
            archive.writestr(f"{key}.npy", data[:-8] if key == "5.W" else data)
    message = _refused(path, str(path / "weights.npz"), "5.W")
    assert "Python objects" not in message


def test_train_refuses_an_empty_out_before_training(capsys):
    """``--out ""`` asked for a save: it trained, saved nothing and exited 0."""
    from core.cli import main
    code = main(["train", "--model", "mlp", "--dataset", "mnist", "--epochs", "1", "--limit", "10", "--out", ""])
    out, err = capsys.readouterr()
    assert code == 2 and "empty" in err and "Traceback" not in err
    assert "epoch" not in err + out, "it trained before finding out it could not save"


@pytest.mark.parametrize("name, kind", [("model.json", "fifo"), ("model.json", "device"), ("model.json", "huge"),
                                        ("weights.npz", "fifo"), ("weights.npz", "device")])
def test_a_file_that_is_not_a_small_regular_file_is_refused_without_reading_it(saved, kind, name):
    """A model.json linked to /dev/zero was read until a raw MemoryError; a FIFO hung load_model forever.
    (A big weights file is normal: its headers are checked before its arrays are read.)"""
    import os
    _, path = saved
    json_file = path / name
    json_file.unlink()
    if kind == "fifo":
        os.mkfifo(json_file)
    elif kind == "device":
        json_file.symlink_to("/dev/zero")
    else:
        with open(json_file, "wb") as f:
            f.truncate(serialization.MAX_JSON_BYTES + 1)   # sparse: costs no disk
    with pytest.raises(ModelFileError, match=name):
        load_model(path)
