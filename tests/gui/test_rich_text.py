"""Numbers and names put into rich text show literally: "<0.1%", a class named "<b>cat</b>", "a & b"."""
import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt

from core.datasets import Dataset
from gui.format import counted, esc, percent, rich_tooltip, shape_text
from gui.panels.data import DataPanel
from gui.panels.evaluation import EvaluationPanel
from gui.panels.inside import InsidePanel
from gui.panels.training import TrainingPanel
from gui.settings import Settings
from gui.state import AppState

NAMES = ["<b>zero</b>", "one & two", "<0.1%", "3", "4", "5", "6", "7", "8", "a<b"]


def shown(label):
    """What a QLabel shows a reader: its text rendered as Qt renders it."""
    text = label.text()
    rich = label.textFormat() == Qt.RichText or (label.textFormat() == Qt.AutoText and GuiQt.mightBeRichText(text))
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def rendered(html):
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


@pytest.fixture
def odd_state(lenet, mnist):
    model = lenet.copy()
    model.meta["class_names"] = list(NAMES)
    ds = Dataset("a<b & c", mnist.x_train[:100], mnist.y_train[:100], mnist.x_test[:200], mnist.y_test[:200],
                 list(NAMES), "<made> & kept")
    state = AppState()
    state.set_dataset(ds)
    state.set_model(model, "/tmp/<odd> & model")
    return state


def test_a_count_of_one_is_singular_and_thousands_are_separated():
    assert counted(1, "test image") == "1 test image"
    assert [counted(n, "mistake") for n in (0, 2, 12500)] == ["0 mistakes", "2 mistakes", "12,500 mistakes"]


def test_the_formatter_escapes_and_formats():
    assert percent(1e-5) == "<0.1%" and percent(0) == "0%" and percent(0.42) == "42.0%" and percent(1) == "100%"
    assert percent(0.99999) == ">99.9%"
    assert shape_text((1, 28, 28)) == "1 × 28 × 28" and shape_text([800]) == "800"
    assert rendered(esc("<0.1% & <b>x</b>")) == "<0.1% & <b>x</b>"
    assert rendered(rich_tooltip("a <b>b</b>")) == "a <b>b</b>"


def test_percent_never_rounds_to_a_certainty_it_does_not_have_at_any_precision():
    assert percent(0.9995) == ">99.9%" and percent(0.0005) == "0.1%" and percent(0.00049) == "<0.1%"
    assert percent(0.98104, 2) == "98.10%" and percent(0.999951, 2) == ">99.99%" and percent(0.00004, 2) == "<0.01%"
    assert percent(1, 2) == "100%" and percent(0, 2) == "0%"
    assert percent(0.37, 0) == "37%" and percent(0.996, 0) == ">99%" and percent(0.004, 0) == "<1%"


def test_a_compact_shape_is_the_same_shape_without_spaces():
    assert shape_text((5, 5), compact=True) == "5×5" and shape_text((3, 4, 4), compact=True) == "3×4×4"


def test_saliency_title_shows_a_tiny_probability_and_odd_names_literally(qtbot, odd_state):
    panel = InsidePanel(odd_state)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    panel.show()
    panel.set_tab("Saliency")
    panel.show_test_index(0)
    view = panel.saliency
    qtbot.waitUntil(lambda: view.probs is not None, timeout=5000)
    top = int(view.probs.argmax())
    tiny = [k for k in range(10) if k != top and 0 < view.probs[k] < 0.0005]
    assert tiny, f"the test needs a class with a tiny probability: {view.probs}"
    view.set_class(tiny[0])
    text = shown(view.big_title)
    assert f"{NAMES[tiny[0]]} probability <0.1%" in " ".join(text.split())
    assert f"(the model says {NAMES[top]})" in text
    for k in range(10):
        view.set_class(k)
        assert NAMES[k] in shown(view.big_title)


def test_evaluation_captions_show_odd_class_names_literally(qtbot, odd_state):
    panel = EvaluationPanel(odd_state)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    panel.show()
    with qtbot.waitSignal(panel.mistakesFound, timeout=20_000):
        panel.evaluate()
    r = panel.result
    wrong = np.nonzero(r.preds != odd_state.dataset.y_test[:len(r.preds)])[0]
    i = int(wrong[0])
    true, pred = int(odd_state.dataset.y_test[i]), int(r.preds[i])
    panel.show_cell(true, pred)
    caption = " ".join(shown(panel.cell_caption).split())
    assert f"true class {NAMES[true]} predicted as {NAMES[pred]}" in caption
    assert f"true {NAMES[true]}, predicted {NAMES[pred]}" in " ".join(shown(panel.details.caption).split())


def test_the_evaluation_summary_shows_an_accuracy_beyond_the_last_step_literally(qtbot, odd_state):
    """">99.99%" in the bold summary line must not read as a tag (nor be rounded up to 100.00%)."""
    panel = EvaluationPanel(odd_state)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.evaluated, timeout=20_000):
        panel.evaluate()
    qtbot.waitUntil(lambda: not panel.job.running, timeout=20_000)
    panel.show_result(dataclasses.replace(panel.result, accuracy=0.999991))
    assert "Test accuracy >99.99%" in shown(panel.summary)


def test_data_and_model_boxes_show_odd_names_literally(qtbot, odd_state, tmp_path):
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    data = DataPanel(odd_state, settings)
    qtbot.addWidget(data)
    data.show_dataset(odd_state.dataset)
    assert "a<b & c" in shown(data.summary) and "<made> & kept" in shown(data.where)
    training = TrainingPanel(odd_state, settings)
    qtbot.addWidget(training)
    assert "<odd> & model" in shown(training.model_label)


def test_a_saturated_probability_is_never_written_as_a_certainty():
    """A float32 softmax is exactly 1.0 once one score leads by about 19: rounding, not certainty."""
    import numpy as np

    from core.layers.activations import softmax
    from gui.format import probability
    p = softmax(np.array([[120.0, 0.0, 0.0]], np.float32))[0]
    assert p[0] == 1.0 and p[1] == 0.0   # what the model really hands over
    assert probability(p[0]) == ">99.9%" and probability(p[1]) == "<0.1%" and probability(0.42) == "42.0%"
    assert percent(1.0) == "100%"   # an accuracy can truly be whole
