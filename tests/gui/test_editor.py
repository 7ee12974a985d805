"""The architecture editor panel, driven through its widgets (pytest-qt, offscreen)."""
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton

from core import Sequential, zoo
from gui.editor.diagram import glyphs, layer_color
from gui.editor.form import ChoiceEditor, PairEditor
from gui.editor.layer_list import ERROR_ROLE
from gui.editor.shape_table import ERROR_BG
from gui.panels.architecture import ArchitecturePanel
from gui.state import AppState

# 28 -> conv5 24 -> pool 12 -> conv3 10 -> pool 5 -> conv k: a 7x7 kernel does not fit the 5x5 map
FIVE_BY_FIVE = {"input_shape": [1, 28, 28], "layers": [
    {"type": "Conv2D", "config": {"filters": 4, "kernel_size": 5}}, {"type": "MaxPool2D", "config": {}},
    {"type": "Conv2D", "config": {"filters": 6, "kernel_size": 3}}, {"type": "MaxPool2D", "config": {}},
    {"type": "Conv2D", "config": {"filters": 8, "kernel_size": 3}}, {"type": "Flatten", "config": {}},
    {"type": "Dense", "config": {"units": 10}}, {"type": "Softmax", "config": {}}]}


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def make_panel(qtbot, state):
    def make(model=None, answer=True):
        if model is not None:
            state.set_model(model)
        panel = ArchitecturePanel(state)
        qtbot.addWidget(panel)
        panel.asked = []
        panel.ask = lambda title, text: panel.asked.append(text) or answer
        panel.warned = []
        panel.warn = lambda title, text: panel.warned.append(text)
        return panel
    return make


def set_through_form(panel, name, value):
    widget = panel.form.editor(name)
    if isinstance(widget, PairEditor):
        widget.first.setValue(value)      # linked: the second side follows
    elif isinstance(widget, ChoiceEditor):
        widget.select(value)
    else:
        widget.setValue(value)


def add_by_click(qtbot, panel, type_name, **values):
    qtbot.mouseClick(panel.palette.button(type_name), Qt.LeftButton)
    for name, value in values.items():
        set_through_form(panel, name, value)


def weights_of(model):
    return {k: v.copy() for k, v in model.get_weights().items()}


def tool_button(panel, action_name):
    action = panel.actions[action_name]
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def test_lenet5_built_by_clicks_and_form_edits_matches_the_zoo(qtbot, state, make_panel):
    panel = make_panel()
    assert not state.architecture_valid  # nothing yet
    add_by_click(qtbot, panel, "Conv2D", filters=20, kernel_size=5)
    add_by_click(qtbot, panel, "MaxPool2D")
    add_by_click(qtbot, panel, "Conv2D", filters=50, kernel_size=5)
    add_by_click(qtbot, panel, "MaxPool2D")
    add_by_click(qtbot, panel, "Flatten")
    add_by_click(qtbot, panel, "Dense", units=500, activation="relu")
    add_by_click(qtbot, panel, "Dense", units=10)
    add_by_click(qtbot, panel, "Softmax")
    ref = zoo.build("lenet5")
    model = state.model
    assert state.architecture_valid
    assert [layer.output_shape for layer in model.layers] == [layer.output_shape for layer in ref.layers]
    assert model.count_params() == ref.count_params() == 431_080
    assert model.get_config() == ref.get_config()
    table = panel.table.table
    assert [table.item(r, 1).text() for r in range(1, 9)] == \
        ["20 × 24 × 24", "20 × 12 × 12", "50 × 8 × 8", "50 × 4 × 4", "800", "500", "10", "10"]
    assert table.item(6, 2).text() == "400,500"
    assert "431,080" in panel.table.totals.text()


def test_an_impossible_kernel_is_marked_red_and_blocks_training_until_fixed(qtbot, state, make_panel):
    panel = make_panel(Sequential.from_config(FIVE_BY_FIVE))
    original = state.model
    start = QPushButton("Start")   # the Training panel's button, as it will be wired
    state.validityChanged.connect(lambda ok, why: start.setEnabled(ok))
    panel.select_layer(4)
    set_through_form(panel, "kernel_size", 7)
    reason = "Conv2D #5: kernel 7x7 is larger than its 5x5 input"
    assert (state.architecture_valid, state.invalid_reason) == (False, reason)
    assert not start.isEnabled()
    assert state.model is original  # an invalid architecture never replaces the model
    table = panel.table.table
    assert table.item(5, 1).text() == reason
    assert table.item(5, 0).background().color() == ERROR_BG
    assert [table.item(r, 1).text() for r in (6, 7, 8)] == ["?", "?", "?"]
    assert panel.layer_model.data(panel.layer_model.index(4), ERROR_ROLE) == reason
    assert panel.form.error.isVisibleTo(panel) and panel.form.error.text() == reason
    assert reason in panel.table.banner.text()
    assert [g.kind for g in panel.diagram.glyphs][5:] == ["error", "unknown", "unknown", "unknown"]

    set_through_form(panel, "kernel_size", 3)
    assert state.architecture_valid and start.isEnabled()
    assert state.model is original  # back to the model's own architecture: nothing to rebuild
    assert panel.undo_stack.count() == 0  # 3 -> 7 -> 3 merged into a step that changes nothing
    assert not panel.form.error.isVisibleTo(panel)


def test_undo_redo_round_trip_restores_configs_and_weights(qtbot, state, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    original, original_weights = state.model.get_config(), weights_of(state.model)
    panel.select_layer(5)
    set_through_form(panel, "units", 300)
    set_through_form(panel, "units", 200)      # the same field again: merges into one step
    panel.add_layer("Dropout")
    panel.select_layer(0)
    panel.actions["delete"].trigger()
    configs = [state.model.get_config()]
    assert panel.undo_stack.count() == 3
    for _ in range(3):
        panel.undo()
    assert state.model.get_config() == panel.doc.config() == original
    for key, value in original_weights.items():
        np.testing.assert_array_equal(state.model.get_weights()[key], value)
    assert not panel.actions["undo"].isEnabled() and panel.actions["redo"].isEnabled()
    for _ in range(3):
        panel.redo()
    assert state.model.get_config() == configs[-1]
    assert [it.type for it in panel.doc.items][:2] == ["MaxPool2D", "Conv2D"]


def test_json_save_then_load_gives_the_same_architecture(qtbot, tmp_path, make_panel):
    panel = make_panel(zoo.build("alexnet_mini"))
    path = tmp_path / "arch.json"
    assert panel.save_json(path)
    other_state = AppState()
    other = ArchitecturePanel(other_state)
    qtbot.addWidget(other)
    assert other.load_json(path)
    assert other.doc.config() == panel.doc.config() == zoo.build("alexnet_mini").get_config()
    assert other_state.model.get_config() == zoo.build("alexnet_mini").get_config()
    bad = tmp_path / "bad.json"
    bad.write_text('{"input_shape": [1, 28, 28], "layers": [{"type": "Conv3D"}]}')
    assert not panel.load_json(bad)
    assert str(bad) in panel.warned[0] and "Conv3D" in panel.warned[0]


def test_reorder_by_drag_and_drop_and_by_the_up_down_buttons(qtbot, state, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    model = panel.layer_model
    # Drag "Flatten" (row 4) and drop it before row 1, as the list view does on a drop.
    assert model.dropMimeData(model.mimeData([model.index(4)]), Qt.MoveAction, 1, 0, QModelIndex())
    qtbot.waitUntil(lambda: panel.doc.items[1].type == "Flatten")
    assert [it.type for it in panel.doc.items][:3] == ["Conv2D", "Flatten", "MaxPool2D"]
    assert not state.architecture_valid  # pooling a flat vector: flagged
    panel.undo()
    assert panel.doc.config() == zoo.build("lenet5").get_config()

    panel.select_layer(6)                          # Dense 10
    qtbot.mouseClick(tool_button(panel, "up"), Qt.LeftButton)
    assert [it.type for it in panel.doc.items][5:7] == ["Dense", "Dense"]
    assert panel.doc.items[5].config["units"] == 10 and panel.list.current_row() == 5
    qtbot.mouseClick(tool_button(panel, "down"), Qt.LeftButton)
    assert panel.doc.config() == zoo.build("lenet5").get_config() and panel.list.current_row() == 6
    assert panel.actions["up"].shortcuts()[0].toString() == "Ctrl+Up"
    assert panel.actions["duplicate"].shortcuts()[0].toString() == "Ctrl+D"
    assert "Ctrl+Shift+Z" in [k.toString() for k in panel.actions["redo"].shortcuts()]


def test_keyboard_shortcuts_edit_the_list(qtbot, make_panel):
    panel = make_panel(zoo.build("mlp"))
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)
    panel.list.setFocus()
    panel.select_layer(1)
    qtbot.keyClick(panel.list, Qt.Key_D, Qt.ControlModifier)
    assert [it.type for it in panel.doc.items] == ["Flatten", "Dense", "Dense", "Dense", "Dense", "Softmax"]
    twin = panel.selected_uid
    assert panel.doc.index_of(twin) == 2
    qtbot.keyClick(panel.list, Qt.Key_Up, Qt.ControlModifier)
    assert panel.doc.index_of(twin) == 1 and panel.list.current_row() == 1
    qtbot.keyClick(panel.list, Qt.Key_Delete)
    assert len(panel.doc.items) == 5
    for _ in range(3):
        qtbot.keyClick(panel.list, Qt.Key_Z, Qt.ControlModifier)
    assert panel.doc.config() == zoo.build("mlp").get_config() and panel.undo_stack.index() == 0
    qtbot.keyClick(panel.list, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert len(panel.doc.items) == 6


def test_editing_a_trained_model_asks_first_and_keeps_unchanged_weights(qtbot, state, make_panel):
    trained = zoo.build("lenet5", seed=3)
    trained.train_history = {"loss": [0.4, 0.2], "accuracy": [0.9, 0.95]}
    trained.meta = {"class_names": [str(i) for i in range(10)], "metrics": {"accuracy": 0.95}}
    before = weights_of(trained)
    panel = make_panel(trained)
    panel.select_layer(5)
    set_through_form(panel, "units", 300)
    assert len(panel.asked) == 1 and "2 epochs" in panel.asked[0]
    model = state.model
    assert model is not trained and model.layers[5].params["W"].shape == (800, 300)
    for key in ("0.W", "0.b", "2.W", "2.b"):      # both convolutions kept their trained weights
        np.testing.assert_array_equal(model.get_weights()[key], before[key])
    assert model.meta == {"class_names": trained.meta["class_names"]} and model.train_history == {}
    set_through_form(panel, "units", 250)
    assert len(panel.asked) == 1                  # the new model is not trained: no second question


def test_saying_no_leaves_the_trained_model_and_the_form_alone(qtbot, state, tmp_path, make_panel):
    model = zoo.build("mlp")
    state.set_model(model, path=tmp_path / "mlp")  # loaded from disk counts as trained
    panel = make_panel(answer=False)
    panel.select_layer(1)
    set_through_form(panel, "units", 64)
    assert len(panel.asked) == 1 and str(tmp_path / "mlp") in panel.asked[0]
    assert state.model is model and panel.doc.config() == model.get_config()
    assert panel.form.editor("units").value() == 100


def test_training_disables_editing(qtbot, state, make_panel):
    panel = make_panel(zoo.build("mlp"))
    state.set_training(True)
    assert not panel.palette.isEnabled() and not panel.form.isEnabled()
    assert not panel.actions["delete"].isEnabled() and not panel.presets_button.isEnabled()
    assert panel.training_note.isVisibleTo(panel)
    assert panel.add_layer("ReLU") is False and len(panel.doc.items) == 5
    state.set_training(False)
    assert panel.palette.isEnabled() and not panel.training_note.isVisibleTo(panel)
    assert panel.add_layer("ReLU") and len(panel.doc.items) == 6


def test_the_architecture_follows_the_dataset(qtbot, state, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    conv_weights = state.model.layers[0].params["W"].copy()
    state.set_dataset(SimpleNamespace(x_train=np.zeros((2, 1, 20, 20), np.float32),
                                      class_names=list("abcde"), name="tiny"))
    assert panel.doc.input_shape == (1, 20, 20)
    assert state.model.input_shape == (1, 20, 20) and state.model.output_shape == (5,)
    np.testing.assert_array_equal(state.model.layers[0].params["W"], conv_weights)
    assert state.architecture_valid
    panel.undo()
    assert not state.architecture_valid and "tiny has 1 × 20 × 20" in state.invalid_reason


def test_a_dataset_that_a_trained_model_does_not_fit_is_named_in_the_question(qtbot, state, tmp_path, make_panel):
    """Loading data of other classes made the editor ask "Change a trained model?" about an edit the
    user never made, naming neither the data nor what would change; the answer No keeps the model."""
    model = zoo.build("lenet5")
    state.set_model(model, path=tmp_path / "lenet5-mnist")
    panel = make_panel(answer=False)
    state.set_dataset(SimpleNamespace(x_train=np.zeros((2, 1, 28, 28), np.float32),
                                      class_names=list("abc"), name="shapes <3 & co"))
    assert len(panel.asked) == 1
    question = panel.asked[0]
    assert "shapes <3 & co" in question and "3 classes" in question and "10 outputs" in question
    assert state.model is model and panel.doc.config() == model.get_config()


@pytest.mark.parametrize("name", zoo.names())
def test_presets_load_the_zoo_networks(qtbot, state, make_panel, name):
    panel = make_panel()
    panel.load_preset(name)
    assert panel.doc.config() == zoo.build(name).get_config()
    assert state.architecture_valid and state.model.get_config() == zoo.build(name).get_config()
    assert len(panel.diagram.glyphs) == len(panel.doc.items) + 1


def test_the_drawing_shows_maps_bars_and_pills_and_selects_on_click(qtbot, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    panel.resize(1300, 800)
    panel.show()
    qtbot.waitExposed(panel)
    kinds = [g.kind for g in glyphs(panel.doc.input_shape, panel.doc.items, panel.analysis.rows)]
    assert kinds == ["map"] * 5 + ["bar"] * 3 + ["pill"]
    image = panel.diagram.grab().toImage()
    conv = layer_color("Conv2D").rgb()
    assert any(image.pixel(x, y) == conv for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))
    x, width = panel.diagram._columns[3]  # Conv2D #3 (column 0 is the input)
    qtbot.mouseClick(panel.diagram, Qt.LeftButton, pos=QPoint(int(x + width / 2), 20))
    assert panel.list.current_row() == 2 and panel.form.title.text() == "Conv2D #3"


def test_training_keeps_the_undo_history_and_undo_brings_back_trained_weights(qtbot, state, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    original = state.model.get_config()
    panel.select_layer(5)
    set_through_form(panel, "units", 300)
    edited = state.model
    state.set_training(True)
    edited.layers[0].params["W"] += 1.0          # what training does: in place
    edited.train_history = {"loss": [0.3]}
    trained_conv = edited.layers[0].params["W"].copy()
    state.set_dataset(SimpleNamespace(x_train=np.zeros((2, 1, 28, 28), np.float32),
                                      class_names=list("0123456789"), name="digits"))  # waits for the end
    state.set_training(False)
    state.set_model(edited.copy())                # the Training panel hands back the trained model
    assert panel.undo_stack.count() == 1
    panel.undo()
    assert len(panel.asked) == 1                  # the edited model is trained now
    assert state.model.get_config() == original
    np.testing.assert_array_equal(state.model.layers[0].params["W"], trained_conv)
    assert state.architecture_valid


def test_another_model_from_the_app_starts_a_new_history(qtbot, state, make_panel):
    panel = make_panel(zoo.build("lenet5"))
    panel.add_layer("ReLU")
    assert panel.undo_stack.count() == 1
    state.set_model(zoo.build("mlp"))
    assert panel.undo_stack.count() == 0 and panel.doc.config() == zoo.build("mlp").get_config()
    assert [panel.table.table.item(r, 1).text() for r in range(1, 6)] == ["784", "100", "100", "10", "10"]


def test_the_memory_estimate_follows_the_batch_size(qtbot, make_panel):
    panel = make_panel(zoo.build("mlp"))
    values = 784 + 784 + 100 + 100 + 10 + 10      # input and every output, per sample
    params = zoo.build("mlp").count_params()
    panel.table.batch.setValue(1000)
    expected = 4 * 2 * (1000 * values + params) / 1024 ** 2
    assert f"{expected:,.1f} MB" in panel.table.memory.text()
