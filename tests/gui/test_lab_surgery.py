"""Lab > Surgery on a LeNet-5 trained on real MNIST: changes on a copy, their effect at once, undo, save, use."""
import dataclasses
import gc

import numpy as np
import pytest
from model_weights import assert_same_weights, weights_of
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core import Sequential, inspect, load_model
from core.layers import Dense, Flatten, Sigmoid
from core.surgery_history import Step
from gui import unsaved
from gui.format import probability
from gui.lab import surgery as surgery_module
from gui.lab.surgery import TRAINING, SurgeryPage
from core.datasets.subset import sample_indices as _sample
from gui.lab.surgery_accuracy import SAMPLE
from gui.panels.lab import LabPanel
from gui.state import AppState

N_TEST = 2500


def subset(mnist, n):
    """MNIST with its first ``n`` test images: a measurement takes a second, not ten."""
    return dataclasses.replace(mnist, x_test=mnist.x_test[:n], y_test=mnist.y_test[:n])


@pytest.fixture
def state(lenet, mnist):
    state = AppState()
    state.set_dataset(subset(mnist, N_TEST))
    state.set_model(lenet.copy(), "/nowhere/lenet")
    return state


@pytest.fixture
def page(qtbot, state):
    page = SurgeryPage(state)
    qtbot.addWidget(page)
    page.resize(1340, 640)
    page.show()
    yield page
    page.accuracy.cancel()
    assert page.accuracy.job.wait(5000)


def measured(qtbot, page):
    qtbot.waitUntil(lambda: not page.accuracy.job.running, timeout=60_000)


def test_the_app_model_is_bit_for_bit_unchanged_by_every_surgery(qtbot, page, state):
    model, before, meta = state.model, weights_of(state.model), dict(state.model.meta)
    units, whole = page.unit_controls, page.model_controls
    units.layer.setCurrentIndex(0)
    units.unit.setValue(4)
    for button in (units.off_button, units.scale_button, units.shift_button, whole.prune_button,
                   whole.noise_button, whole.temperature_button):
        qtbot.mouseClick(button, Qt.LeftButton)
    units.layer.setCurrentIndex(units.layer.count() - 1)
    assert units.unit.value() == 0 and units.unit.maximum() == 9     # another layer: its units, from the first
    units.unit.setValue(4)
    qtbot.mouseClick(units.off_button, Qt.LeftButton)
    assert page.changes.count() == 7
    assert page.changes.item(0).text() == "1. Switched off filter 4 of Conv2D #1"
    assert page.changes.item(6).text().startswith("7. Switched off neuron 4 of Dense #")
    assert state.model is model and page.history.original is not model
    assert_same_weights(model, before)
    assert model.meta == meta and not state.model.meta.get("surgery")
    assert page.history.current.meta["surgery"][0] == {"operation": "switch_off", "layer": 0, "unit": 4}
    measured(qtbot, page)
    assert_same_weights(model, before)


def test_a_drawing_is_answered_before_and_after_each_change(qtbot, page, state, mnist):
    x = mnist.x_test[7:8]
    assert "Nothing drawn yet: test image #0, labelled 7." in page.input_caption.text()
    state.inputChosen.emit(x)
    assert page.input_caption.text().startswith("Your drawing from the Draw tab.\nAnswer ")
    probs = state.model.predict(x)[0]
    np.testing.assert_allclose(page.before_bars.probabilities, probs, rtol=1e-6)
    np.testing.assert_allclose(page.after_bars.probabilities, probs, rtol=1e-6)
    top, last = int(probs.argmax()), len(state.model.layers) - 2     # the output Dense before the Softmax
    page.apply(Step("switch_off", {"layer": last, "unit": top}))
    scores = inspect.class_scores(state.model, x)[0]
    scores[top] = 0                           # known answer: only that class's score becomes 0
    expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    np.testing.assert_allclose(page.after_bars.probabilities, expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(page.before_bars.probabilities, probs, rtol=1e-6)


def test_a_drawing_of_another_shape_falls_back_to_a_test_image_and_says_so(page, state, mnist):
    state.inputChosen.emit(np.zeros((1, 3, 32, 32), np.float32))
    assert page.input_caption.text().startswith("The drawing does not fit this model's input: test image #0, ")
    np.testing.assert_allclose(page.before_bars.probabilities, state.model.predict(mnist.x_test[:1])[0], rtol=1e-6)


def test_accuracy_comes_from_a_sample_first_then_the_whole_test_set(qtbot, page, state):
    measured(qtbot, page)
    page.accuracy.figures.clear()
    page.apply(Step("prune", {"fraction": 0.8}))
    ds, original, edited, version = state.dataset, page.history.original, page.history.current, state.dataset_version
    accuracy = page.accuracy
    assert [accuracy._running] + [(m, (version, n)) for m, n in accuracy._queue] == [
        (original, (version, SAMPLE)), (edited, (version, SAMPLE)), (original, (version, N_TEST)),
        (edited, (version, N_TEST))]
    measured(qtbot, page)
    part = _sample(N_TEST, SAMPLE)
    assert accuracy.figures[edited][(version, SAMPLE)] == pytest.approx(
        inspect.evaluate_predictions(edited, ds.x_test[part], ds.y_test[part]).accuracy)
    old = inspect.evaluate_predictions(state.model, ds.x_test, ds.y_test).accuracy
    new = inspect.evaluate_predictions(edited, ds.x_test, ds.y_test).accuracy
    assert page.accuracy.figure(edited) == (pytest.approx(new), N_TEST)
    text = page.accuracy.summary.text()
    assert f"{100 * old:.2f}% → {100 * new:.2f}%" in text and f"on all {N_TEST:,} test images" in text


def test_a_new_change_replaces_the_measuring_of_the_last(qtbot, page):
    measured(qtbot, page)
    page.apply(Step("add_weight_noise", {"sigma": 0.5, "rng": 1}))
    first = page.history.current
    page.apply(Step("prune", {"fraction": 0.5}))
    measured(qtbot, page)
    known = set(page.accuracy.figures.keys())
    assert first not in known and page.history.current in known


def test_pruning_nothing_changes_neither_the_answer_nor_the_accuracy(qtbot, page, state):
    page.apply(Step("prune", {"fraction": 0.0}))
    assert_same_weights(page.history.current, weights_of(state.model))
    np.testing.assert_array_equal(page.after_bars.probabilities, page.before_bars.probabilities)
    measured(qtbot, page)
    assert page.accuracy.figure(page.history.current) == page.accuracy.figure(page.history.original)
    assert "(+0.00 points)" in page.accuracy.summary.text()


def test_figures_of_another_dataset_are_never_shown(qtbot, page, state, mnist):
    page.apply(Step("prune", {"fraction": 0.5}))
    measured(qtbot, page)
    state.set_dataset(subset(mnist, 600))
    assert page.accuracy.figure(page.history.current) is None
    measured(qtbot, page)
    assert page.accuracy.figure(page.history.current)[1] == 600
    assert "on all 600 test images" in page.accuracy.summary.text()


def test_undo_and_ctrl_z_give_back_exactly_the_model_before(qtbot, page, state):
    first = page.apply(Step("switch_off", {"layer": 2, "unit": 7})) or page.history.current
    weights = weights_of(first)
    page.apply(Step("add_weight_noise", {"sigma": 0.3, "rng": 5}))
    page.changes.setFocus()
    page.activateWindow()
    qtbot.waitUntil(page.changes.hasFocus)
    qtbot.keyClick(page.changes, Qt.Key_Z, Qt.ControlModifier)
    assert page.changes.count() == 1
    assert_same_weights(page.history.current, weights)
    qtbot.mouseClick(page.undo_button, Qt.LeftButton)
    assert page.changes.count() == 0 and not page.undo_button.isEnabled()
    assert_same_weights(page.history.current, weights_of(state.model))


def test_reset_goes_back_to_the_app_model_and_forgets_the_copies(qtbot, page, state):
    for fraction in (0.2, 0.6):
        page.apply(Step("prune", {"fraction": fraction}))
    measured(qtbot, page)
    qtbot.mouseClick(page.reset_button, Qt.LeftButton)
    assert page.changes.count() == 0 and page.history.current is page.history.original
    np.testing.assert_array_equal(page.after_bars.probabilities, page.before_bars.probabilities)
    measured(qtbot, page)
    gc.collect()
    assert list(page.accuracy.figures.keys()) == [page.history.original]     # no figures keep old copies alive


def test_saving_writes_a_loadable_model_with_the_change(page, state, tmp_path, mnist):
    before = weights_of(state.model)
    page.apply(Step("switch_off", {"layer": 0, "unit": 3}))
    page.apply(Step("set_temperature", {"temperature": 3.0}))
    assert page.save_to(str(tmp_path / "edited"))
    loaded = load_model(tmp_path / "edited")
    np.testing.assert_array_equal(loaded.layers[0].params["W"][3], 0)
    assert loaded.meta["temperature"] == 3.0 and len(loaded.meta["surgery"]) == 2
    np.testing.assert_allclose(loaded.predict(mnist.x_test[:20]), page.history.current.predict(mnist.x_test[:20]),
                               rtol=1e-6)
    assert state.model_path == "/nowhere/lenet" and page.changes.count() == 2
    assert_same_weights(state.model, before)
    assert str(tmp_path / "edited") in page.status.text()


def test_save_as_suggests_a_new_folder_beside_the_model_name(page, monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(surgery_module.QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, start: asked.append(start) or ("", "")))
    monkeypatch.setattr(surgery_module, "documents_folder", lambda: tmp_path)
    page.apply(Step("prune", {"fraction": 0.1}))
    assert page.save_as() is False
    assert asked == [str(tmp_path / "lenet-surgery")]


def test_a_folder_that_cannot_hold_a_model_is_an_error_naming_it_and_loses_nothing(page, monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr(surgery_module, "show_error", lambda parent, title, text, advice="": shown.append(text))
    (tmp_path / "notes.txt").write_text("mine")
    page.apply(Step("prune", {"fraction": 0.3}))
    assert not page.save_to(str(tmp_path))
    assert shown and str(tmp_path) in shown[0]
    assert (tmp_path / "notes.txt").read_text() == "mine" and page.changes.count() == 1


def test_saving_over_the_opened_model_asks_and_then_the_app_uses_it(page, state, monkeypatch, tmp_path):
    folder = tmp_path / "lenet"
    state.model.save(folder)
    state.set_model(load_model(folder), str(folder))
    original = weights_of(state.model)
    page.apply(Step("switch_off", {"layer": 0, "unit": 1}))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: QMessageBox.No))
    assert not page.save_to(str(folder))
    assert_same_weights(load_model(folder), original)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: QMessageBox.Yes))
    assert page.save_to(str(folder))
    np.testing.assert_array_equal(load_model(folder).layers[0].params["W"][1], 0)
    np.testing.assert_array_equal(state.model.layers[0].params["W"][1], 0)
    assert state.model_path == str(folder) and state.model_saved


def test_use_in_the_app_asks_about_unsaved_work_first(page, state, monkeypatch):
    asked = []
    monkeypatch.setattr(unsaved, "ask", lambda parent, doing, can_save=True: asked.append(doing) or unsaved.CANCEL)
    state.set_model(state.model, "/nowhere/lenet", saved=False)     # trained further, never saved
    model = state.model
    page.apply(Step("switch_off", {"layer": 0, "unit": 2}))
    assert not page.use_in_app()
    assert asked == ["Using the edited model"] and state.model is model and page.changes.count() == 1
    monkeypatch.setattr(unsaved, "ask", lambda parent, doing, can_save=True: unsaved.DISCARD)
    assert page.use_in_app()
    assert state.model is not model and state.model_path is None and not state.model_saved
    np.testing.assert_array_equal(state.model.layers[0].params["W"][2], 0)
    assert page.changes.count() == 0 and "The app now uses the model with your 1 change" in page.status.text()
    assert_same_weights(page.history.original, weights_of(state.model))


def test_an_untrained_model_operated_on_and_used_in_the_app_is_unsaved_work(qtbot, state):
    state.set_model(Sequential([Flatten(), Dense(10)], input_shape=(1, 28, 28), seed=0), None)
    assert not state.unsaved_work                     # a fresh model is not work to lose
    page = SurgeryPage(state)
    qtbot.addWidget(page)
    page.apply(Step("shift_bias", {"layer": 1, "unit": 3, "delta": 2.0}))
    assert page.use_in_app()
    assert state.unsaved_work                         # closing the window asks first


def test_another_model_in_the_app_drops_the_changes_and_says_so(page, state, lenet):
    page.apply(Step("prune", {"fraction": 0.5}))
    page.apply(Step("prune", {"fraction": 0.7}))
    state.set_model(lenet.copy(), None)
    assert page.changes.count() == 0
    assert page.status.text() == "The model in the app changed, so the 2 changes made to the old one were dropped."


def test_training_disables_the_page_and_says_why(page, state):
    page.apply(Step("prune", {"fraction": 0.5}))
    state.set_training(True)
    assert not page.unit_controls.isEnabled() and not page.save_button.isEnabled()
    assert page.status.text() == TRAINING and page.accuracy.summary.text() == TRAINING
    page.apply(Step("prune", {"fraction": 0.9}))
    state.weightsUpdated.emit(weights_of(state.model), {})      # training snapshots do not touch the copy
    page.undo()                                                 # Ctrl+Z reaches it even with the button off
    page.reset()
    assert page.changes.count() == 1
    state.set_training(False)
    assert page.unit_controls.isEnabled() and page.changes.count() == 0
    assert page.status.text() == "The model in the app changed, so the 1 change made to the old one was dropped."


def test_a_refused_change_is_said_and_changes_nothing(page):
    page.apply(Step("switch_off", {"layer": 1, "unit": 0}))
    assert page.status.text() == "MaxPool2D #2 has no units to operate on: choose a Dense or Conv2D layer"
    assert page.changes.count() == 0


def test_a_model_without_a_softmax_has_its_temperature_button_explained(qtbot, mnist):
    state = AppState()
    state.set_model(Sequential([Flatten(), Dense(10), Sigmoid()], input_shape=(1, 28, 28), seed=0))
    page = SurgeryPage(state)
    qtbot.addWidget(page)
    button = page.model_controls.temperature_button
    assert not button.isEnabled() and "ends in a Sigmoid" in button.toolTip()
    assert page.unit_controls.thumb.tiles() and len(page.unit_controls.thumb.tiles()) == 1   # a Dense unit on pixels


def test_the_unit_thumbnail_shows_the_app_model_and_the_copy(page):
    assert [t.title for t in page.unit_controls.thumb.tiles()] == ["app's model"]
    page.unit_controls.unit.setValue(5)
    page.unit_controls.off_button.click()
    tiles = page.unit_controls.thumb.tiles()
    assert [t.title for t in tiles] == ["app's model", "edited copy"]
    assert not np.any(tiles[1].values[0]) and np.any(tiles[0].values[0])


def test_the_lab_tab_has_the_surgery_page(qtbot, state):
    panel = LabPanel(state)
    qtbot.addWidget(panel)
    assert isinstance(panel.pages["Surgery"], SurgeryPage)


def test_the_answer_line_says_whether_the_changes_turned_the_answer(page, state, mnist):
    state.inputChosen.emit(mnist.x_test[7:8])
    probs = state.model.predict(mnist.x_test[7:8])[0]
    top, sure = int(probs.argmax()), probability(probs.max())
    assert page.input_caption.text().splitlines()[1] == f"Answer {top} ({sure} sure) → {top} ({sure} sure)"
    page.apply(Step("switch_off", {"layer": len(state.model.layers) - 2, "unit": top}))
    assert page.input_caption.text().endswith("the changes turned the answer.")
    page.undo()
    page.apply(Step("set_temperature", {"temperature": 4.0}))
    assert page.input_caption.text().endswith(": the same answer, less sure.")


def test_in_the_window_ctrl_z_undoes_on_the_page_and_use_in_the_app_reaches_every_panel(qtbot, tmp_path, mnist):
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    window.show()
    window.state.set_dataset(subset(mnist, 300))
    window.show_panel("Lab")
    window.panels["Lab"].show_page("Surgery")
    page = window.panels["Lab"].pages["Surgery"]
    opened, weights = window.state.model, weights_of(window.state.model)
    page.apply(Step("switch_off", {"layer": 0, "unit": 0}))
    page.apply(Step("prune", {"fraction": 0.5}))
    window.activateWindow()
    page.changes.setFocus()
    qtbot.waitUntil(page.changes.hasFocus)
    qtbot.keyClick(page.changes, Qt.Key_Z, Qt.ControlModifier)
    assert page.changes.count() == 1
    assert page.use_in_app()
    assert window.state.model is not opened and window.windowTitle() == "numpynet studio[*]"
    assert window.isWindowModified()
    np.testing.assert_array_equal(window.panels["Draw"].source.model.layers[0].params["W"][0], 0)
    assert_same_weights(opened, weights)
    page.accuracy.cancel()
    assert page.accuracy.job.wait(5000)


def test_a_model_for_other_images_says_why_there_is_no_accuracy_and_no_test_image(qtbot, state):
    state.set_model(Sequential([Flatten(), Dense(10)], input_shape=(1, 14, 14), seed=0), None)
    page = SurgeryPage(state)
    qtbot.addWidget(page)
    page.show()
    assert page.accuracy.summary.text() == ("No accuracy. The model takes 1×14×14 images; those of mnist are 1×28×28. "
                                            "Load the data it was made for in the Data panel, or evaluate it anyway "
                                            "on the Evaluation tab.")
    assert not page.accuracy.job.running
    assert page.input_caption.text() == "Nothing drawn yet, and no test image fits: draw on the Draw tab."
    state.inputChosen.emit(np.ones((1, 1, 14, 14), np.float32))
    assert page.input_caption.text().startswith("Your drawing from the Draw tab.")


def test_without_data_or_drawing_the_page_says_what_to_do(qtbot, lenet):
    state = AppState()
    state.set_model(lenet.copy())
    page = SurgeryPage(state)
    qtbot.addWidget(page)
    page.show()
    assert page.input_caption.text() == "Nothing drawn yet, and no test images are loaded: draw on the Draw tab."
    assert page.accuracy.summary.text() == "No accuracy. No test images: load a dataset in the Data panel."
    assert page.before_bars.class_names == [str(i) for i in range(10)] and page.after_bars.probabilities is None


def test_an_accuracy_that_arrives_late_is_filed_under_the_model_it_measured(qtbot):
    """A stopped job's result can arrive after the next measurement has started: it must be filed under its own
    model and data, not under whatever runs then (nor fail because nothing runs)."""
    from gui.lab.surgery_accuracy import AccuracyComparison
    widget = AccuracyComparison()
    qtbot.addWidget(widget)
    measured, running = (Sequential([Flatten(), Dense(2)], input_shape=(1, 2, 2), seed=s) for s in (0, 1))
    widget._running = running, (7, 100)
    widget._arrived(((measured, (3, 100)), 0.25))
    widget._running = None
    widget._arrived(((measured, (3, 1000)), 0.5))
    assert widget.figures[measured] == {(3, 100): 0.25, (3, 1000): 0.5}
    assert running not in widget.figures
