"""The architecture editor's "Trainable" check box freezes the selected layer of the app's model."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import zoo
from core.layers import Conv2D
from core.optimizers import SGD
from gui.panels.architecture import ArchitecturePanel
from gui.editor.document import Document
from gui.state import AppState


@pytest.fixture
def panel(qtbot):
    state = AppState()
    state.set_model(zoo.build("lenet5", seed=0))
    panel = ArchitecturePanel(state)
    qtbot.addWidget(panel)
    panel.ask = lambda title, text: True
    panel.show()
    return panel


def test_unticking_freezes_the_layer_and_undo_thaws_it(qtbot, panel):
    panel.select_layer(0)
    box = panel.form.trainable
    assert box.isVisible() and box.isChecked()
    qtbot.mouseClick(box, Qt.LeftButton)
    model = panel.state.model
    assert model.layers[0].trainable is False
    assert all(layer.trainable for layer in model.layers[1:])
    assert "Conv2D #1 (frozen)" in model.summary()
    panel.undo()
    assert panel.state.model.layers[0].trainable is True and box.isChecked()


def test_a_frozen_layer_keeps_its_weights_when_the_published_model_trains(qtbot, panel):
    panel.select_layer(0)
    before = panel.state.model.layers[0].get_weights()
    qtbot.mouseClick(panel.form.trainable, Qt.LeftButton)
    model = panel.state.model
    for kept, now in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(kept, now)   # freezing keeps the weights it had
    model.compile(SGD(lr=0.1), "crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.random((8, 1, 28, 28), dtype=np.float32), np.arange(8) % 10, epochs=1, batch_size=4)
    for kept, now in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(kept, now)


def test_the_box_is_hidden_for_a_layer_without_parameters(panel):
    panel.select_layer(1)   # MaxPool2D
    assert not panel.form.trainable.isVisible()
    panel.select_layer(None)
    assert not panel.form.trainable.isVisible()


def test_a_model_with_a_frozen_layer_opens_frozen_in_the_editor(qtbot):
    model = zoo.build("lenet5", seed=0)
    model.layers[2].trainable = False
    state = AppState()
    state.set_model(model)
    panel = ArchitecturePanel(state)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.state.model is model   # the document is that model: nothing republished, nothing thawed
    assert model.layers[2].trainable is False
    panel.select_layer(2)
    assert isinstance(model.layers[2], Conv2D) and not panel.form.trainable.isChecked()


def test_the_document_round_trips_the_flag_through_its_config_and_snapshots():
    config = zoo.build("lenet5").get_config()
    config["layers"][0]["trainable"] = False
    doc = Document.from_config(config)
    assert doc.config() == config
    snap = doc.snapshot()
    doc.set_trainable(doc.uids[0], True)
    assert "trainable" not in doc.config()["layers"][0]
    doc.restore(snap)
    assert doc.config() == config
    twin_uid = doc.duplicate(doc.uids[0])
    assert doc.item(twin_uid).trainable is False
