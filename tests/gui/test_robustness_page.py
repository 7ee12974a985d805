"""Lab > Robustness: accuracy-vs-strength curves of the current model and one to compare, on a worker."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PySide6.QtWidgets import QFileDialog
from test_evaluation import subset

from core import load_model, runs, stress, zoo
from core.interop import export_onnx
from core.resources import shipped
from core.stress import DEFAULT_STRENGTHS, KINDS
from gui.lab import pages
from gui.lab.robustness import OTHER_MODEL, OUTDATED, RobustnessPage, sample_of
from gui.panels.lab import LabPanel
from gui.state import AppState
from gui.views.damage_controls import SEED

N_TEST = 200


@pytest.fixture
def state(lenet, mnist):
    state = AppState()
    state.set_dataset(subset(mnist, N_TEST))
    state.set_model(lenet, path="/somewhere/lenet-test")
    return state


@pytest.fixture
def page(qtbot, state):
    page = RobustnessPage(state)
    qtbot.addWidget(page)
    page.resize(1340, 640)
    page.show()
    qtbot.waitUntil(lambda: not page.list_job.running, timeout=10_000)
    yield page
    assert page.job.stop_and_wait(5000) and page.list_job.stop_and_wait(5000)


def computed(qtbot, page):
    """Wait for the curves started (the job ends after its result was taken in)."""
    qtbot.waitUntil(lambda: not page.job.running, timeout=60_000)
    assert drawn(page), page.note.text()


def drawn(page):
    """{legend name: (x, y)} of the curves on the plot."""
    return {item.name(): item.getData() for item in page.plot.getPlotItem().listDataItems()}


def test_the_lab_lists_the_page(qtbot, state):
    assert "Robustness" in [title for title, _ in pages(state)]
    panel = LabPanel(state)
    qtbot.addWidget(panel)
    assert isinstance(panel.pages["Robustness"], RobustnessPage)


def test_each_kind_starts_from_its_default_curve_in_its_unit(page):
    for kind in KINDS:
        page.kind.setCurrentIndex(page.kind.findData(kind))
        assert_allclose(page.strengths(), DEFAULT_STRENGTHS[kind])
        assert page.unit.text() == KINDS[kind]


def test_curves_of_two_models_are_overlaid_with_known_values(qtbot, page, state, lenet):
    mlp = load_model(shipped("saved_models") / "mlp-mnist")
    page.kind.setCurrentIndex(page.kind.findData("noise"))
    page.choose_compare(("model", str(shipped("saved_models") / "mlp-mnist")))
    assert page.compare.currentText() == "pretrained mlp-mnist"     # the list's own item, not a copy
    page.compute()
    assert page.job.running and page.cancel_button.isVisible() and page.progress.isVisible()
    computed(qtbot, page)
    x, y = state.dataset.x_test, state.dataset.y_test
    curves = drawn(page)
    assert list(curves) == ["lenet-test (this model)", "pretrained mlp-mnist"]
    for name, model in zip(curves, (lenet, mlp)):
        xs, ys = curves[name]
        expected = stress.robustness(model, x, y, "noise", DEFAULT_STRENGTHS["noise"], rng=SEED).accuracy
        assert_allclose(xs, DEFAULT_STRENGTHS["noise"])
        assert_allclose(ys, 100 * expected)
        assert ys[0] == pytest.approx(100 * model.evaluate(x, y)["accuracy"])    # zero noise: the plain accuracy
        assert ys[-1] < ys[0] - 30
    plot = page.plot.getPlotItem()
    assert plot.getAxis("bottom").labelText == "Gaussian noise strength (sigma)"
    assert "accuracy (%)" in plot.getAxis("left").labelText
    assert f"all {N_TEST} test images" in page.note.text()
    assert not page.progress.isVisible() and not page.cancel_button.isVisible()


def test_a_recorded_runs_model_can_be_compared(qtbot, page, mnist):
    model = zoo.build("mlp", seed=0)
    model.compile("adam", "crossentropy")
    model.meta.update(class_names=[str(i) for i in range(10)], dataset="mnist")
    model.fit(mnist.x_train[:300], mnist.y_train[:300], epochs=1, batch_size=50,
              callbacks=[runs.Recorder(name="small mlp")])
    page.hide()
    page.show()     # shown again: the runs recorded meanwhile join the list
    qtbot.waitUntil(lambda: page.compare.findText("run small mlp") >= 0, timeout=10_000)
    page.compare.setCurrentIndex(page.compare.findText("run small mlp"))
    page.steps.setValue(2)
    page.compute()
    computed(qtbot, page)
    assert list(drawn(page)) == ["lenet-test (this model)", "run small mlp"]


def pick_other_model(page):
    """Choose "Other model…" in the compare list as a user does (``activated`` follows a user's choice only)."""
    index = page.compare.findData(OTHER_MODEL)
    page.compare.setCurrentIndex(index)
    page.compare.activated.emit(index)


def test_other_model_takes_an_onnx_file_or_a_model_json_as_file_open_does(qtbot, page, state, monkeypatch,
                                                                          tmp_path):
    folder = shipped("saved_models") / "mlp-mnist"
    mlp = load_model(folder)
    export_onnx(mlp, tmp_path / "mlp.onnx")
    chosen = [str(tmp_path / "mlp.onnx"), str(folder / "model.json")]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (chosen.pop(0), ""))
    pick_other_model(page)
    assert page.compare.currentText() == "model mlp"
    page.steps.setValue(2)
    page.compute()
    computed(qtbot, page)
    x, y = state.dataset.x_test, state.dataset.y_test
    expected = stress.robustness(mlp, x, y, "noise", page.strengths(), rng=SEED).accuracy
    assert_allclose(drawn(page)["model mlp"][1], 100 * expected)    # the imported file answers as the folder does
    pick_other_model(page)
    assert page.compare.currentText() == "pretrained mlp-mnist"     # a model.json opens its folder: the list's own


def test_cancel_stops_and_keeps_no_curve(qtbot, page, state, mnist):
    state.set_dataset(subset(mnist, 5000))
    page.sample.setCurrentIndex(page.sample.findData(0))
    page.compute()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not page.job.running, timeout=20_000)
    assert drawn(page) == {} and "Cancelled" in page.note.text()
    assert page.compute_button.isEnabled()


def test_curves_of_an_outdated_model_are_dropped(qtbot, page, state):
    page.steps.setValue(2)
    page.compute()
    computed(qtbot, page)
    assert len(drawn(page)) == 1
    state.set_model(zoo.build("lenet5", seed=1))
    assert drawn(page) == {} and page.note.text() == OUTDATED
    page.compute()
    computed(qtbot, page)
    assert list(drawn(page)) == ["this model"]     # a model of no file is named as such


def test_a_result_for_a_model_replaced_meanwhile_is_not_drawn(qtbot, page, state):
    page.compute()
    state.set_model(zoo.build("lenet5", seed=1))
    qtbot.waitUntil(lambda: not page.job.running, timeout=60_000)
    assert drawn(page) == {} and page.note.text() == OUTDATED


def test_a_folder_that_is_not_a_model_is_named_in_the_error(qtbot, page, tmp_path):
    page.choose_compare(("model", str(tmp_path)))
    page.steps.setValue(1)
    page.compute()
    qtbot.waitUntil(lambda: not page.job.running, timeout=30_000)
    assert "Could not compute" in page.note.text() and str(tmp_path) in page.note.text()
    assert drawn(page) == {}


def test_a_model_made_for_other_classes_is_refused_by_name(qtbot, page):
    page.choose_compare(("model", str(shipped("saved_models") / "cnn-fashion-mnist")))
    page.steps.setValue(1)
    page.compute()
    qtbot.waitUntil(lambda: not page.job.running, timeout=30_000)
    assert "pretrained cnn-fashion-mnist:" in page.note.text()


def test_says_why_it_cannot_compute(qtbot, page, state):
    page.high.setValue(0.1)
    page.low.setValue(0.5)
    page.compute()
    assert not page.job.running and "swap" in page.note.text()
    state.set_training(True)
    assert not page.compute_button.isEnabled()
    state.set_training(False)
    state.set_dataset(None)
    page.compute()
    assert not page.job.running and "No test images" in page.note.text()


def test_the_sample_is_fixed_and_the_same_for_every_curve(mnist):
    ds = subset(mnist, 3000)
    x, y = sample_of(ds, 1000)
    assert len(x) == 1000
    assert_array_equal(sample_of(ds, 1000)[0], x)
    assert sample_of(ds, 0)[0] is ds.x_test and sample_of(ds, 5000)[0] is ds.x_test
    assert len(np.unique(y)) == 10
