"""The Evaluation panel on a LeNet-5 briefly trained on real MNIST: numbers, matrix clicks, mistakes."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from core import inspect, zoo
from core.datasets import Dataset
from gui.panels.evaluation import EvaluationPanel
from gui.state import AppState
from gui.views.export import save_png

SIZE = (1300, 850)
N_TEST = 400


def subset(mnist, n):
    return Dataset("mnist", mnist.x_train[:100], mnist.y_train[:100], mnist.x_test[:n], mnist.y_test[:n],
                   [str(i) for i in range(10)], "MNIST subset for tests")


@pytest.fixture
def state(lenet, mnist):
    state = AppState()
    state.set_dataset(subset(mnist, N_TEST))
    state.set_model(lenet)
    return state


@pytest.fixture
def panel(qtbot, state):
    panel = EvaluationPanel(state)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    yield panel
    assert panel.job.stop_and_wait(5000)


def shown_and_evaluated(qtbot, panel):
    """Showing the panel starts the evaluation by itself; wait for its result."""
    with qtbot.waitSignal(panel.evaluated, timeout=30_000) as blocker:
        panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    return blocker.args[0]


def pixels(widget):
    image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).astype(np.float64)


def test_results_match_the_model_on_the_whole_test_set(qtbot, panel, state, lenet):
    result = shown_and_evaluated(qtbot, panel)
    ds = state.dataset
    reference = lenet.evaluate(ds.x_test, ds.y_test)
    assert len(result.labels) == N_TEST
    assert result.accuracy == pytest.approx(reference["accuracy"])
    assert result.loss == pytest.approx(reference["loss"], rel=1e-4)
    assert f"{100 * reference['accuracy']:.2f}%" in panel.summary.text()
    preds = lenet.predict(ds.x_test).argmax(1)
    assert_array_equal(panel.matrix.cm, inspect.confusion_matrix(ds.y_test, preds, 10))
    assert_array_equal(panel.per_class.counts, np.bincount(ds.y_test, minlength=10))
    for widget in (panel, panel.matrix, panel.per_class, panel.mistakes, panel.details):
        assert pixels(widget).var() > 150, f"{type(widget).__name__} looks blank"


def test_clicking_a_confusion_cell_shows_its_images(qtbot, panel):
    result = shown_and_evaluated(qtbot, panel)
    off = result.confusion * (1 - np.eye(10, dtype=int))
    t, p = np.unravel_index(off.argmax(), off.shape)
    assert off[t, p] > 0, "the test model should make some mistakes"
    qtbot.mouseClick(panel.matrix, Qt.LeftButton, pos=panel.matrix.cell_centre(t, p))
    expected = np.flatnonzero((result.labels == t) & (result.preds == p))
    assert sorted(panel.cell_shown) == list(expected)
    assert len(panel.cell.tiles()) == len(expected)
    assert panel.tabs.currentIndex() == 1
    assert panel.tabs.tabText(1) == f"{t} → {p} ({len(expected)})"
    assert f"true class <b>{t}</b> predicted as <b>{p}</b>" in panel.cell_caption.text()
    assert panel.details.index == panel.cell_shown[0]
    shown = panel.cell.tiles()[0].values[0]
    np.testing.assert_allclose(shown, panel.state.dataset.x_test[panel.cell_shown[0], 0])
    diagonal = np.flatnonzero((result.labels == 1) & (result.preds == 1))
    qtbot.mouseClick(panel.matrix, Qt.LeftButton, pos=panel.matrix.cell_centre(1, 1))
    assert sorted(panel.cell_shown) == list(diagonal)


def test_mistakes_are_most_confident_first_and_open_inside(qtbot, panel):
    found = []
    panel.mistakesFound.connect(found.append)
    result = shown_and_evaluated(qtbot, panel)
    expected = inspect.top_mistakes(result.probs, result.labels, len(result.labels))
    assert_array_equal(found[0], expected)
    assert_array_equal(panel.mistakes_shown, expected[:len(panel.mistakes_shown)])
    confidence = result.probs[panel.mistakes_shown, result.preds[panel.mistakes_shown]]
    assert np.all(np.diff(confidence) <= 0)
    qtbot.mouseClick(panel.mistakes, Qt.LeftButton, pos=panel.mistakes.click_point(1))
    i = panel.mistakes_shown[1]
    assert panel.details.index == i
    np.testing.assert_allclose(panel.details.bars.probabilities, result.probs[i])
    with qtbot.waitSignal(panel.inspectRequested) as asked:
        qtbot.mouseClick(panel.details.inside, Qt.LeftButton)
    assert asked.args == [i]


def test_training_clears_results_and_evaluates_again_when_it_ends(qtbot, panel, state, lenet):
    """Results of the weights before a run are cleared when it starts (they were labelled "out of date"
    and kept on screen before); nothing is evaluated while the weights change, and the run's end
    brings fresh results by itself."""
    shown_and_evaluated(qtbot, panel)
    state.set_training(True)
    weights = {k: v.copy() for k, v in lenet.get_weights().items()}
    state.weightsUpdated.emit(weights, {})
    assert panel.result is None and panel.stack.currentWidget() is panel.placeholder
    assert "evaluate again" in panel.placeholder.text() and "Training is changing" in panel.summary.text()
    assert not panel.busy and not panel.run_button.isEnabled()
    panel.evaluate()
    assert not panel.busy
    with qtbot.waitSignal(panel.evaluated, timeout=30_000):
        state.set_training(False)   # the model is free again: a visible panel re-runs by itself
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert panel.current and "Test accuracy" in panel.summary.text()


def test_cancel_stops_a_running_evaluation(qtbot, state, mnist):
    state.set_dataset(subset(mnist, 5000))
    panel = EvaluationPanel(state)
    qtbot.addWidget(panel)
    panel.evaluate()
    assert panel.busy and panel.cancel_button.isVisibleTo(panel)
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    assert panel.result is None
    assert panel.run_button.isEnabled()


def test_says_why_it_cannot_evaluate(qtbot, state, mnist):
    state.set_model(zoo.build("lenet5", input_shape=(1, 32, 32)))
    panel = EvaluationPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.busy
    assert "Not evaluated" in panel.summary.text()
    assert "takes 1×32×32 images; those of mnist are 1×28×28" in panel.summary.text()
    state.set_dataset(None)
    assert "No test images" in panel.summary.text()


def test_exports_a_png(qtbot, panel, tmp_path):
    shown_and_evaluated(qtbot, panel)
    path = save_png(panel, tmp_path / "evaluation.png")
    assert QImage(str(path)).size() == panel.size()


def test_a_failed_evaluation_is_said_from_the_gui_thread(qtbot, panel, monkeypatch):
    """Widgets may only be touched from the GUI thread: the failure reaches the summary through a queued slot."""
    import threading

    def broken(*_args, **_kwargs):
        raise RuntimeError("out of memory (test)")

    said = []
    original = panel._say
    monkeypatch.setattr(inspect, "evaluate_predictions", broken)
    monkeypatch.setattr(panel, "_say", lambda text: (said.append((text, threading.current_thread())), original(text)))
    panel.show()
    qtbot.waitUntil(lambda: any("failed" in text for text, _ in said), timeout=10_000)
    text, thread = next((t, th) for t, th in said if "failed" in t)
    assert "out of memory (test)" in text and "out of memory (test)" in panel.summary.text()
    assert thread is threading.main_thread()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    monkeypatch.undo()
    panel.state.set_training(True)   # the weights start changing: the failure was about the old ones
    assert "failed" not in panel.summary.text()
    panel.state.set_training(False)
