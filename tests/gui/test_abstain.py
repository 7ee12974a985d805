"""The "I don't know" threshold: Evaluation's line, the draw pad, one threshold for both, remembered."""
import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core import inspect
from core.calibration import abstain, average_confidence, confident_mistakes
from core.datasets import Dataset
from gui.abstention import Abstention
from gui.format import percent
from gui.main_window import MainWindow
from gui.panels.draw import DrawPanel
from gui.panels.evaluation import EvaluationPanel
from gui.state import AppState

N_TEST = 300


@pytest.fixture
def state(lenet, mnist):
    state = AppState()
    state.set_dataset(Dataset("mnist", mnist.x_train[:100], mnist.y_train[:100], mnist.x_test[:N_TEST],
                              mnist.y_test[:N_TEST], [str(i) for i in range(10)], "MNIST subset for tests"))
    state.set_model(lenet)
    return state


@pytest.fixture
def evaluated(qtbot, state):
    """An Evaluation panel shown and done evaluating; its result."""
    panel = EvaluationPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    with qtbot.waitSignal(panel.evaluated, timeout=30_000) as blocker:
        panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    yield panel, blocker.args[0]
    assert panel.job.stop_and_wait(5000)


def set_percent(control, pct):
    control.threshold.setValue(pct)


def test_threshold_zero_answers_every_test_image(evaluated):
    panel, result = evaluated
    set_percent(panel.abstain.control, 0)
    answered = panel.abstain.answered
    assert answered.coverage == 1 and answered.answered.all()
    assert answered.accuracy == pytest.approx(result.accuracy)
    assert f"Answers all</b> of the test images ({N_TEST} of {N_TEST})" in panel.abstain.summary.text()
    assert "I don't know" not in panel.abstain.summary.text()


@pytest.mark.parametrize("pct", [30, 60, 90, 99, 99.9])
def test_coverage_and_accuracy_are_core_calibrations_at_each_threshold(evaluated, pct):
    panel, result = evaluated
    set_percent(panel.abstain.control, pct)
    expected = abstain(result.probs, result.labels, pct / 100)
    got = panel.abstain.answered
    assert (got.threshold, got.coverage) == pytest.approx((pct / 100, expected.coverage))
    assert got.accuracy == pytest.approx(expected.accuracy, nan_ok=True)
    assert (got.answered == expected.answered).all()
    n = int(expected.answered.sum())
    text = panel.abstain.summary.text()
    if 0 < n < N_TEST:
        assert f"{percent(expected.coverage)}</b> of the test images ({n} of {N_TEST})" in text
        assert f"{percent(expected.accuracy, 2)} right" in text and f"to {N_TEST - n}" in text
    overall = panel.abstain.overall.text()
    assert f"Average confidence {percent(average_confidence(result.probs))}" in overall
    assert f"{confident_mistakes(result.probs, result.labels)} mistakes made more than 90% sure" in overall


def test_threshold_one_answers_only_what_is_certain(qtbot, state):
    """Probabilities of exactly 1 (a float32 softmax saturates) are the only ones answered at 100%."""
    panel = EvaluationPanel(state)
    qtbot.addWidget(panel)
    probs = np.array([[1, 0, 0], [0.999, 0.001, 0], [0, 1, 0], [0.5, 0.5, 0]], np.float32)
    labels = np.array([0, 0, 2, 1])
    Abstention.of(state).publish(probs, labels, state.results_key())
    set_percent(panel.abstain.control, 100)
    assert panel.abstain.answered.answered.tolist() == [True, False, True, False]
    assert panel.abstain.answered.accuracy == 0.5
    assert "Answers 50.0%</b> of the test images (2 of 4)" in panel.abstain.summary.text()
    set_percent(panel.abstain.control, 99.9)
    assert panel.abstain.answered.answered.tolist() == [True, True, True, False]


def test_moving_the_threshold_never_evaluates_again(evaluated, monkeypatch):
    panel, _result = evaluated
    calls = []
    monkeypatch.setattr(inspect, "evaluate_predictions", lambda *a, **k: calls.append(a))
    shown = set()
    for pct in (0, 50, 80, 95, 99.5, 100):
        panel.abstain.control.slider.setValue(round(pct * 10))
        shown.add(panel.abstain.summary.text())
    assert calls == [] and not panel.busy
    assert len(shown) >= 3   # the figures did follow the threshold
    assert Abstention.of(panel.state).threshold == 1.0


def test_results_of_another_model_are_dropped(evaluated, lenet):
    panel, _result = evaluated
    set_percent(panel.abstain.control, 90)
    assert panel.abstain.answered is not None
    panel.state.set_model(lenet.copy())
    assert panel.abstain.answered is None and Abstention.of(panel.state).probabilities() is None
    assert "Evaluate to see" in panel.abstain.summary.text() and panel.abstain.overall.text() == ""


def test_the_draw_pad_says_i_dont_know_below_the_same_threshold(qtbot, state, mnist):
    """One threshold for Evaluation and Draw: set in either, both show it, and the pad abstains below it."""
    evaluation, pad = EvaluationPanel(state), DrawPanel(state)
    for w in (evaluation, pad):
        qtbot.addWidget(w)
    pad.show()
    pad.canvas.set_picture(1 - mnist.x_test[0, 0])     # a 7, dark on light as a picture
    pad.predict_now()
    confidence = float(pad.model.predict(pad.input)[0].max())
    assert pad.answer.text().count(">7<") == 1
    set_percent(evaluation.abstain.control, min(confidence * 100 + 0.5, 100))
    pad_control = pad.findChild(type(evaluation.abstain.control))
    assert pad_control.threshold.value() == evaluation.abstain.control.threshold.value()
    assert "I don't know" in pad.answer.text()
    assert "best guess <b>7</b>" in pad.confidence.text() and percent(confidence) in pad.confidence.text()
    assert pad.chart.probabilities is not None        # the bars still show what it would have said
    set_percent(pad_control, 0)
    assert evaluation.abstain.control.threshold.value() == 0
    assert ">7<" in pad.answer.text() and "I don't know" not in pad.answer.text()


def test_the_threshold_is_remembered(qtbot, tmp_path):
    path = str(tmp_path / "settings.ini")
    window = MainWindow(settings=QSettings(path, QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    assert Abstention.of(window.state).threshold == 0     # a plain classifier until asked otherwise
    window.panels["Evaluation"].abstain.control.threshold.setValue(85)
    window.save_settings()
    again = MainWindow(settings=QSettings(path, QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(again)
    assert Abstention.of(again.state).threshold == pytest.approx(0.85)
    assert again.panels["Draw"].findChild(type(again.panels["Evaluation"].abstain.control)).threshold.value() == 85


def test_a_threshold_outside_0_1_is_refused(state):
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\], got 1.5"):
        Abstention.of(state).set_threshold(1.5)
    assert Abstention.of(state) is Abstention.of(state)
