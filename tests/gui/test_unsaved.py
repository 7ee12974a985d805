"""Nothing the user made is replaced or closed away unasked: the unsaved-model question.

Opening another model, building a preset and closing the window ask Save / Discard / Cancel when the model holds
training or edits no file has; a model the user has saved, or the pretrained one as it shipped, is never asked about.
"""
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core import load_model, zoo
from gui import unsaved
from gui.main_window import STARTUP_MODEL, MainWindow

REAL_ASK = unsaved.ask   # the conftest answers Discard for every other test


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def answers(monkeypatch):
    """Answer the question with each of the given answers in turn (then Discard, as the window closes at the
    test's end); the questions asked are kept."""
    asked, queue = [], []

    def ask(parent, doing, can_save=True):
        asked.append(doing)
        return queue.pop(0) if queue else unsaved.DISCARD
    monkeypatch.setattr(unsaved, "ask", ask)
    return asked, queue


def make_unsaved(window):
    """The window's model trained a little, as after a run the user has not saved."""
    model = zoo.build("mlp", seed=0)
    model.compile("sgd", "crossentropy")
    x = np.random.default_rng(0).random((32, 1, 28, 28), dtype=np.float32)
    model.fit(x, np.arange(32) % 10, epochs=1, batch_size=16, seed=0)
    window.state.set_model(model, None)
    assert window.state.unsaved_work
    return model


def test_the_shipped_model_as_it_opened_is_replaced_without_a_question(window, answers):
    asked, _ = answers
    assert window.open_model(STARTUP_MODEL)
    assert window.training_panel.build_preset()
    assert asked == []


def test_cancel_keeps_the_unsaved_model_when_opening_another(window, answers):
    asked, queue = answers
    model = make_unsaved(window)
    queue.append(unsaved.CANCEL)
    assert not window.open_model(STARTUP_MODEL)
    assert window.state.model is model and asked == ["Opening lenet5-mnist"]


def test_discard_opens_the_other_model(window, answers):
    _, queue = answers
    model = make_unsaved(window)
    queue.append(unsaved.DISCARD)
    assert window.open_model(STARTUP_MODEL)
    assert window.state.model is not model


def test_save_writes_the_model_before_it_is_replaced(window, answers, monkeypatch, tmp_path):
    _, queue = answers
    model = make_unsaved(window)
    target = tmp_path / "kept"
    monkeypatch.setattr(window, "save_model_as", lambda: window.save_model_to(str(target)))
    queue.append(unsaved.SAVE)
    assert window.open_model(STARTUP_MODEL)
    kept = load_model(target).get_weights()
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(kept[name], value)


def test_a_cancelled_save_as_keeps_the_model(window, answers, monkeypatch):
    _, queue = answers
    model = make_unsaved(window)
    monkeypatch.setattr(window, "save_model_as", lambda: False)
    queue.append(unsaved.SAVE)
    assert not window.open_model(STARTUP_MODEL)
    assert window.state.model is model


def test_building_a_preset_asks_and_cancel_keeps_the_model(window, answers):
    asked, queue = answers
    model = make_unsaved(window)
    queue.append(unsaved.CANCEL)
    assert not window.training_panel.build_preset()
    assert window.state.model is model and asked[0].startswith("Building a new ")


def test_closing_asks_and_cancel_keeps_the_window_open(window, answers):
    asked, queue = answers
    window.show()
    make_unsaved(window)
    queue.append(unsaved.CANCEL)
    assert not window.close()
    assert window.isVisible() and asked == ["Closing numpynet studio"]
    queue.append(unsaved.DISCARD)
    assert window.close()


def test_the_question_offers_save_discard_and_cancel_and_escape_cancels(qtbot):
    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        seen["buttons"] = {b.text().replace("&", "") for b in box.buttons()}
        seen["text"] = box.text() + " " + box.informativeText()
        seen["rich"] = box.textFormat() == Qt.RichText and not box.informativeText()
        box.reject()   # Escape
    QTimer.singleShot(0, answer)
    assert REAL_ASK(None, "Opening <b>x</b>") == unsaved.CANCEL
    assert len(seen["buttons"]) == 3 and {"Save", "Cancel"} <= seen["buttons"]
    assert "&lt;b&gt;x&lt;/b&gt;" in seen["text"]   # the name is escaped, never read as markup
    assert seen["rich"]   # ... and shown as rich text, so the entities read as "<b>x</b>", not "&lt;"


def test_discard_and_save_buttons_give_their_answers(qtbot):
    for button, expected in ((QMessageBox.Discard, unsaved.DISCARD), (QMessageBox.Save, unsaved.SAVE)):
        QTimer.singleShot(0, lambda b=button: QApplication.activeModalWidget().button(b).click())
        assert REAL_ASK(None, "Closing numpynet studio") == expected
