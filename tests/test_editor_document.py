"""The architecture editor's Qt-free logic: documents, shape inference, weights, files, fields."""
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core import Sequential, initializers, zoo
from core.errors import ModelFileError
from core.layers import layer_types
from gui.editor import fields
from core.serialization import load_architecture, save_architecture
from gui.editor.document import Document, Expectation, Row, WeightBank

ROOT = Path(__file__).resolve().parents[1]


def conv(filters, k, **kw):
    return {"type": "Conv2D", "config": {"filters": filters, "kernel_size": k, **kw}}


def pool():
    return {"type": "MaxPool2D", "config": {}}


def dense(units, **kw):
    return {"type": "Dense", "config": {"units": units, **kw}}


FLAT, SOFTMAX = {"type": "Flatten", "config": {}}, {"type": "Softmax", "config": {}}
# 28 -> 24 -> 12 -> 10 -> 5 -> (kernel k on a 5x5 map)
FIVE_BY_FIVE = [conv(4, 5), pool(), conv(6, 3), pool()]


def test_editor_logic_imports_without_qt():
    code = "import sys, gui.editor.document, gui.editor.fields; assert 'PySide6' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_lenet5_shapes_and_counts_match_the_core():
    ref = zoo.build("lenet5")
    doc = Document.from_config(ref.get_config())
    a = doc.analyse()
    assert a.valid and a.problem is None
    assert [r.output_shape for r in a.rows] == [layer.output_shape for layer in ref.layers]
    assert [r.params for r in a.rows] == [layer.count_params() for layer in ref.layers]
    assert a.total_params == ref.count_params() == 431_080
    assert doc.config() == ref.get_config()
    assert a.model.get_config() == ref.get_config()


def test_an_impossible_kernel_is_reported_with_the_cores_message_and_unknown_after_it():
    doc = Document((1, 28, 28), FIVE_BY_FIVE + [conv(8, 7), FLAT, dense(10)])
    a = doc.analyse()
    assert not a.valid and a.model is None
    assert a.problem == "Conv2D #5: kernel 7x7 is larger than its 5x5 input"
    assert a.problem_row == 4
    assert [r.output_shape for r in a.rows[:4]] == [(4, 24, 24), (4, 12, 12), (6, 10, 10), (6, 5, 5)]
    assert a.rows[4].error == a.problem
    assert a.rows[5:] == [Row(), Row()]
    assert not a.complete and a.batch_memory(32) is None


def test_a_config_the_layer_refuses_is_reported_on_that_layer():
    doc = Document((1, 28, 28), [FLAT, dense(0), dense(10)])
    a = doc.analyse()
    assert a.problem_row == 1 and "Dense #2" in a.problem and "at least 1" in a.problem
    assert a.rows[0].output_shape == (784,) and a.rows[2] == Row()


@pytest.mark.parametrize("layers, expect, row, words", [
    ([], None, None, "no layers"),
    ([conv(4, 3)], None, 0, "add Flatten and Dense"),
    ([FLAT, dense(10)], Expectation((3, 32, 32), 10, "cifar"), -1, "set the input shape to 3 × 32 × 32"),
    ([FLAT, dense(10)], Expectation((1, 28, 28), 5, "tiny"), 1, "units to 5"),
])
def test_networks_that_build_but_cannot_train_say_why(layers, expect, row, words):
    a = Document((1, 28, 28), layers).analyse(expect)
    assert not a.valid and a.model is None
    assert words in a.problem and a.problem_row == row


def test_edits_insert_duplicate_move_remove_keep_uids():
    doc = Document((1, 28, 28), [FLAT, dense(10)])
    first, second = doc.uids
    relu = doc.insert(1, "ReLU")
    assert [it.type for it in doc.items] == ["Flatten", "ReLU", "Dense"]
    twin = doc.duplicate(second)
    assert twin not in (first, second, relu) and doc.item(twin).config == doc.item(second).config
    doc.move(second, 0)
    assert doc.uids == [second, first, relu, twin]
    doc.remove(relu)
    assert doc.uids == [second, first, twin]
    with pytest.raises(ValueError, match="unknown layer type"):
        doc.insert(0, "Conv3D")


def test_fields_are_stored_as_the_core_writes_them_and_followers_follow():
    doc = Document((1, 28, 28), [conv(4, 3), pool(), FLAT, dense(10)])
    c, p, _, d = doc.uids
    doc.set_field(c, "kernel_size", 5)
    assert doc.item(c).config["kernel_size"] == [5, 5]
    doc.set_field(p, "pool_size", [3, 3])
    assert doc.item(p).config["stride"] == [3, 3]  # stride equal to the window follows it
    doc.set_field(p, "stride", [1, 1])
    doc.set_field(p, "pool_size", [2, 2])
    assert doc.item(p).config["stride"] == [1, 1]  # a stride the user chose stays
    doc.set_field(d, "activation", "relu")
    assert doc.item(d).config["init"] is None   # automatic: the layer takes he_uniform when built
    doc.set_field(d, "init", "zeros")
    doc.set_field(d, "activation", "tanh")
    assert doc.item(d).config["init"] == "zeros"   # an initialiser the user chose stays


def test_snapshot_restore_round_trips_and_is_independent():
    doc = Document.from_config(zoo.build("cnn_small").get_config())
    snap = doc.snapshot()
    doc.set_field(doc.uids[0], "filters", 9)
    doc.remove(doc.uids[1])
    doc.restore(snap)
    assert doc.config() == zoo.build("cnn_small").get_config()
    assert doc.snapshot() == snap


def test_follow_a_dataset_sets_input_shape_and_last_dense_units():
    doc = Document.from_config(zoo.build("lenet5").get_config())
    dataset = SimpleNamespace(x_train=np.zeros((3, 1, 20, 20), np.float32), class_names=list("abcde"), name="tiny")
    expect = Expectation.of(dataset)
    assert expect == Expectation((1, 20, 20), 5, "tiny")
    assert doc.follow(expect)
    assert doc.input_shape == (1, 20, 20) and doc.items[-2].config["units"] == 5
    assert doc.analyse(expect).valid
    assert not doc.follow(expect)


def test_weight_bank_keeps_layers_whose_shapes_did_not_change_even_after_a_move():
    old = zoo.build("lenet5", seed=1)
    doc = Document.from_config(old.get_config())
    bank = WeightBank()
    bank.record(doc.uids, old)
    dense_uid = doc.uids[5]
    doc.set_field(dense_uid, "units", 300)
    doc.move(doc.uids[7], 6)  # Softmax and the last Dense swap: weights follow the uid
    new = doc.analyse().model
    kept = bank.restore(doc.uids, new)
    assert kept == [0, 2]  # the convolutions; both Dense layers changed shape
    for i in (0, 2):
        for name in ("W", "b"):
            np.testing.assert_array_equal(new.layers[i].params[name], old.layers[i].params[name])
            assert new.layers[i].params[name] is not old.layers[i].params[name]
    assert new.layers[5].params["W"].shape == (800, 300)


def test_batch_memory_counts_activations_gradients_and_weights():
    a = Document((1, 4, 4), [FLAT, dense(3)]).analyse()
    values = 16 + 16 + 3            # input, Flatten, Dense outputs per sample
    params = 16 * 3 + 3
    assert a.batch_memory(10) == 4 * 2 * (10 * values + params)


def test_architecture_json_round_trip_and_model_json(tmp_path):
    config = zoo.build("vgg_mini").get_config()
    path = tmp_path / "arch.json"
    save_architecture(path, config)
    assert json.loads(path.read_text()) == config
    assert load_architecture(path) == config
    zoo.build("mlp").save(tmp_path / "mlp")
    assert load_architecture(tmp_path / "mlp" / "model.json") == zoo.build("mlp").get_config()


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"layers": 3}', "not an architecture"),
    ('{"input_shape": [1, 0, 28], "layers": []}', "input_shape"),
    ('{"input_shape": [1, 28, 28], "layers": [{"type": "Conv3D"}]}', "layer 1: unknown layer type"),
])
def test_bad_architecture_files_are_refused_naming_the_file(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=words) as err:
        load_architecture(path)
    assert str(path) in str(err.value)


def test_every_layer_type_has_a_palette_group_and_a_form():
    grouped = [t for _, types in fields.palette_groups() for t in types]
    assert sorted(grouped) == sorted(layer_types())
    kinds = {"int", "pair", "float", "sci", "choice", "padding"}
    for t in layer_types():
        assert fields.description(t)
        for spec in fields.fields_for(t):
            assert spec.kind in kinds, (t, spec)  # no layer of the core falls back to free text
            assert len(spec.tooltip) > 20
    conv_fields = {s.name: s for s in fields.fields_for("Conv2D")}
    assert conv_fields["padding"].kind == "padding"
    assert [v for _, v in conv_fields["init"].choices] == [None, *initializers.NAMES]   # None: automatic
    assert None in [v for _, v in conv_fields["activation"].choices]


def test_default_configs_build_and_summaries_read_well():
    assert fields.summary("Conv2D", zoo.build("alexnet_mini").get_config()["layers"][1]["config"]) \
        == "64 @ 3×3, stride 2, pad 1, relu"
    assert fields.summary("MaxPool2D", {"pool_size": [2, 2], "stride": [2, 2], "padding": 0}) == "2×2"
    assert fields.summary("Dense", {"units": 500, "activation": "relu", "init": "he_uniform"}) == "500, relu"
    model = Sequential.from_config({"input_shape": [1, 28, 28], "layers": [
        {"type": t, "config": fields.default_config(t)} for t in ("Conv2D", "BatchNorm", "Dropout", "LeakyReLU",
                                                                  "AvgPool2D", "Flatten", "Dense")]})
    assert model.output_shape == (64,)


def test_a_network_clicked_together_starts_as_the_same_network_written_in_code():
    """Dense, then a ReLU layer from the palette: the Dense starts from He weights, as Dense(relu) does."""
    doc = Document((1, 4, 4))
    for i, kind in enumerate(("Flatten", "Dense", "ReLU", "Dense")):
        doc.insert(i, kind)
    built = Sequential.from_config(doc.config(), seed=0)
    assert built.layers[1].init == "he_uniform" and built.layers[3].init == "lecun_uniform"
    fused = Sequential.from_config({"input_shape": [1, 4, 4], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "config": {"units": 64, "activation": "relu"}},
        {"type": "Dense", "config": {"units": 64}}]}, seed=0)
    np.testing.assert_array_equal(built.layers[1].params["W"], fused.layers[1].params["W"])
