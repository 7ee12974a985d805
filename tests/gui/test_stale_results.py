"""No stale results: Evaluation and Inside's "Next mistake" hold only for the current model and data.

Seen in the real window: Evaluation kept a result of an old model on an old dataset (labelled only
"out of date"), and "Next mistake (1/9291)" walked that list into images of another dataset.
"""
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from core import zoo
from core.datasets import Dataset
from gui.main_window import MainWindow

DIGITS = [str(i) for i in range(10)]


def subset(mnist, start, n=300, name="mnist"):
    return Dataset(name, mnist.x_train[:100], mnist.y_train[:100], mnist.x_test[start:start + n],
                   mnist.y_test[start:start + n], DIGITS, "MNIST subset for tests")


@pytest.fixture
def window(qtbot, tmp_path, lenet, mnist):
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    window.resize(1360, 760)
    window.state.set_dataset(subset(mnist, 0))
    window.state.set_model(lenet.copy())
    window.show()
    yield window
    assert window.stop_background(5000)


def evaluated(qtbot, window):
    """Show Evaluation and wait for its result on the current model and data."""
    evaluation = window.panels["Evaluation"]
    window.show_panel("Evaluation")
    qtbot.waitUntil(lambda: evaluation.current and not evaluation.busy, timeout=30_000)
    return evaluation


def other_weights(state):
    return {k: v * 0.5 for k, v in state.model.get_weights().items()}


CHANGES = {
    "another dataset": lambda state, mnist: state.set_dataset(subset(mnist, 5000)),
    "another model": lambda state, mnist: state.set_model(zoo.build("lenet5", seed=3)),
    "new weights": lambda state, mnist: state.weightsUpdated.emit(other_weights(state), {}),
    "training starts": lambda state, mnist: state.set_training(True),
    "the model handed back": lambda state, mnist: state.set_model(state.model),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_clears_results_and_the_mistakes_list_at_once(qtbot, window, mnist, change):
    evaluation, picker = evaluated(qtbot, window), window.panels["Inside"].picker
    assert evaluation.result is not None and picker.mistake.isEnabled()
    picker.show_test_index(1)
    CHANGES[change](window.state, mnist)
    assert evaluation.result is None and not evaluation.current
    assert evaluation.stack.currentWidget() is evaluation.placeholder
    assert "evaluate again" in evaluation.placeholder.text()
    assert "%" not in evaluation.summary.text()          # no accuracy of another model or data
    assert not picker.mistake.isEnabled() and picker.mistake.text() == "Next mistake"
    picker._next_mistake()                                # even a direct call walks nothing
    assert picker.index.value() == 1
    window.state.set_training(False)


def test_after_the_change_next_mistake_walks_the_new_results(qtbot, window, mnist):
    """From the issue: results on one dataset, then another dataset; Next mistake must step through
    mistakes of the current model on the current data, never the old list."""
    evaluated(qtbot, window)
    window.state.set_dataset(subset(mnist, 5000))
    evaluation = evaluated(qtbot, window)
    picker = window.panels["Inside"].picker
    model, ds = evaluation.source.model, window.state.dataset
    wrong = np.flatnonzero(model.predict(ds.x_test).argmax(1) != ds.y_test)
    assert len(wrong) and picker.mistake.text() == f"Next mistake (of {len(wrong)})"
    for _ in range(min(3, len(wrong))):
        qtbot.mouseClick(picker.mistake, Qt.LeftButton)
        assert picker.index.value() in wrong


def test_a_result_that_arrives_after_the_data_changed_is_dropped(qtbot, window, mnist):
    window.show_panel("Training")                         # Evaluation hidden: no rerun of its own
    evaluation = window.panels["Evaluation"]
    window.state.set_dataset(subset(mnist, 0, n=3000))
    qtbot.waitUntil(lambda: not evaluation.busy, timeout=30_000)
    evaluation.evaluate()
    assert evaluation.busy and not evaluation._rerun
    window.state.set_dataset(subset(mnist, 5000))
    qtbot.waitUntil(lambda: not evaluation.busy, timeout=30_000)
    assert evaluation.result is None and not window.panels["Inside"].picker.mistake.isEnabled()
    evaluation = evaluated(qtbot, window)                 # seen again: evaluates what is current now
    assert len(evaluation.result.labels) == 300
