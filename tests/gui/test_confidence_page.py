"""Lab > Confidence: the coverage curve and reliability diagram of the test set, and temperature scaling."""
import numpy as np
import pytest

from core import load_model
from core.calibration import abstain, calibrate_model, coverage_curve, reliability
from core.datasets import Dataset
from core.datasets.split import stratified_indices
from core.surgery import set_temperature
from gui.abstention import Abstention
from gui.format import percent
from gui.lab import confidence
from gui.lab.confidence import ConfidencePage
from gui.panels.data import SETTINGS as DATA_SETTINGS
from gui.state import AppState

N_TRAIN, N_TEST = 10000, 500     # the lenet fixture trained on the first 2,000: most validation images are new


@pytest.fixture
def state(lenet, mnist):
    state = AppState()
    state.set_dataset(Dataset("mnist", mnist.x_train[:N_TRAIN], mnist.y_train[:N_TRAIN], mnist.x_test[:N_TEST],
                              mnist.y_test[:N_TEST], [str(i) for i in range(10)], "MNIST subset for tests"))
    state.set_model(lenet.copy(), "/somewhere/lenet")
    return state


@pytest.fixture
def page(qtbot, state):
    page = ConfidencePage(state)
    qtbot.addWidget(page)
    page.resize(1340, 640)
    yield page
    assert page.job.stop_and_wait(5000)


def shown(qtbot, page):
    """Shown without test probabilities, the page evaluates the test set by itself."""
    page.show()
    qtbot.waitUntil(lambda: Abstention.of(page.state).probabilities() is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not page.job.running, timeout=5000)
    return Abstention.of(page.state).probabilities()


def fitted(qtbot, page):
    page.fit_button.click()
    qtbot.waitUntil(lambda: not page.job.running, timeout=60_000)
    assert page.fitted is not None, page.temperature_line.text()
    return page.fitted[0]


def test_the_curve_and_the_diagram_are_core_calibrations(qtbot, page, state):
    probs, labels = shown(qtbot, page)
    # within float32's rounding: the page's job and predict cut the set into batches (and predict's batches
    # into pieces for its threads) of other sizes, and a product's rounding depends on its number of rows
    # (LeNet-5's last Dense layer: 8e-7 between 256 rows and 100)
    np.testing.assert_allclose(probs, state.model.predict(state.dataset.x_test), atol=1e-5)
    _, coverage, accuracy = coverage_curve(probs, labels)
    xs, ys = page.curve.getData()
    np.testing.assert_allclose(xs[1:], coverage * 100)
    np.testing.assert_allclose(ys[1:], accuracy * 100)
    page.control.threshold.setValue(95)
    a = abstain(probs, labels, 0.95)
    mx, my = page.mark.getData()
    assert (mx[0], my[0]) == pytest.approx((a.coverage * 100, a.accuracy * 100))
    assert f"{percent(a.accuracy, 2)} right" in page.summary.text()
    r = reliability(probs, labels, confidence.BINS)
    filled = r.counts > 0
    np.testing.assert_allclose(page.bars.opts["height"], r.accuracy[filled] * 100)
    assert page.counts[-1].toPlainText() == f"{r.counts[-1]:,}"
    assert f"expected calibration error {percent(r.ece, 2)}" in page.reliability_title


def test_one_threshold_moves_the_mark_without_evaluating_again(qtbot, page, monkeypatch):
    probs, labels = shown(qtbot, page)
    from core import inspect
    monkeypatch.setattr(inspect, "evaluate_predictions", lambda *a, **k: pytest.fail("evaluated again"))
    Abstention.of(page.state).set_threshold(0)
    assert page.control.threshold.value() == 0
    assert page.mark.getData()[0][0] == pytest.approx(100)
    assert "Answers all" in page.summary.text()


def test_fitting_lowers_the_calibration_error_of_an_over_confident_model(qtbot, page, state, lenet):
    state.set_model(set_temperature(lenet, 0.2), "/somewhere/hot")      # five times too sure
    shown(qtbot, page)
    assert not page.keep_button.isEnabled()
    c = fitted(qtbot, page)
    assert c.after.ece < c.before.ece / 2 and c.temperature > 0.5
    _keep, held = stratified_indices(state.dataset.y_train, DATA_SETTINGS.settings["validation"].default, seed=0)
    assert c.before.counts.sum() == len(held)                           # the Training tab's validation share
    reference = calibrate_model(state.model, state.dataset.x_train[held], state.dataset.y_train[held])
    assert c.temperature == pytest.approx(reference.temperature)
    assert state.model.meta["temperature"] == 0.2                       # nothing changes before Keep
    assert f"T = {c.temperature:.3g}" in page.temperature_line.text()
    assert f"{percent(c.before.ece, 2)} → {percent(c.after.ece, 2)}" in page.temperature_line.text()
    assert page.keep_button.isEnabled()


def test_the_kept_temperature_is_on_the_model_unsaved_and_saved_with_it(qtbot, page, state, tmp_path):
    shown(qtbot, page)
    model = state.model
    weights, optimizer = {k: v.copy() for k, v in model.get_weights().items()}, model.optimizer
    c = fitted(qtbot, page)
    page.keep_button.click()
    assert state.model is model and model.optimizer is optimizer      # only the temperature changed
    assert model.meta["temperature"] == pytest.approx(c.temperature)
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(v, weights[k])
    assert not state.model_saved and state.unsaved_work and state.model_path == "/somewhere/lenet"
    assert not page.keep_button.isEnabled()
    assert f"temperature is {c.temperature:.3g}" in page.temperature_line.text()
    probs, _ = shown(qtbot, page)                                      # evaluated again: the answers soften
    np.testing.assert_allclose(probs, model.predict(state.dataset.x_test), atol=1e-5)   # as in the first test
    model.save(tmp_path / "kept")
    assert load_model(tmp_path / "kept").meta["temperature"] == pytest.approx(c.temperature)


def test_a_fit_for_another_model_is_dropped(qtbot, page, state, lenet):
    shown(qtbot, page)
    fitted(qtbot, page)
    state.set_model(lenet.copy())
    assert page.fitted is None and not page.keep_button.isEnabled()


def test_a_model_without_a_softmax_says_why_it_has_no_temperature(qtbot, page, state):
    from core import Sequential
    from core.layers import Dense, Flatten, Sigmoid
    state.set_model(Sequential([Flatten(), Dense(10), Sigmoid()], input_shape=(1, 28, 28), seed=0))
    page.fit_button.click()
    qtbot.waitUntil(lambda: not page.job.running, timeout=30_000)
    assert page.fitted is None
    assert "a softmax temperature needs a classifier ending in a softmax" in page.temperature_line.text()


def test_no_data_says_what_to_do(qtbot, lenet):
    state = AppState()
    state.set_model(lenet.copy())
    page = ConfidencePage(state)
    qtbot.addWidget(page)
    page.show()
    assert "load a dataset" in page.summary.text() and not page.job.running
    page.fit_button.click()
    assert "dataset with training images" in page.temperature_line.text()


def test_the_validation_share_is_the_data_panels(qtbot):
    assert confidence.VALIDATION == DATA_SETTINGS.settings["validation"].default


def test_cancel_leaves_no_fit_and_keeps_the_model(qtbot, page, state):
    shown(qtbot, page)
    page.fit_button.click()
    assert page.job.running and page.cancel_button.isVisible() and "Fitting" in page.temperature_line.text()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not page.job.running, timeout=30_000)
    assert page.fitted is None and not page.keep_button.isEnabled() and "temperature" not in state.model.meta
    assert not page.cancel_button.isVisible() and page.fit_button.isEnabled()
