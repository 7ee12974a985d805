"""The main window: its areas and menus, remembered settings, start-up model, files, closing mid-run."""
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core import load_model, zoo
from core.datasets import Dataset
from gui import main_window as main_window_mod
from gui.lab.confidence import ConfidencePage
from gui.main_window import PANEL_ORDER, MainWindow
from gui.panels import data as data_mod
from gui.panels import training as training_mod
from gui.settings import Settings
from gui.state import WEIGHTS_REFRESH_MS
from gui.views.lazy import on_screen


@pytest.fixture
def settings_path(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def no_pretrained(monkeypatch, tmp_path):
    monkeypatch.setattr(main_window_mod, "STARTUP_MODEL", tmp_path / "absent" / "lenet5-mnist")


def make_window(qtbot, settings_path):
    window = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    return window


def tiny_dataset(n=240):
    rng = np.random.default_rng(0)
    return Dataset("mnist", rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n),
                   rng.random((20, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 20), list("0123456789"), "-")


def visible_messages(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_window_has_its_areas_menus_and_an_icon(qtbot, settings_path, no_pretrained):
    window = make_window(qtbot, settings_path)
    window.show()
    assert list(window.docks) == list(PANEL_ORDER)
    assert [d.windowTitle() for d in window.docks.values()] == list(PANEL_ORDER)
    assert all(d.widget() is not None for d in window.docks.values())
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "Training", "View", "Help"]
    file_items = [a.text().replace("&", "") for a in menus["File"].actions() if a.text()]
    assert file_items == ["Open model…", "Open recent", "Save model", "Save model as…", "Export as ONNX…", "Quit"]
    view_items = [a.text() for a in menus["View"].actions() if a.text()]
    assert view_items[:len(PANEL_ORDER)] == list(PANEL_ORDER) and "Runs" in PANEL_ORDER
    help_items = [a.text().replace("&", "") for a in menus["Help"].actions()]
    assert help_items == ["Keyboard shortcuts", "About numpynet studio"]
    assert not window.windowIcon().isNull()
    toggle = window.docks["Inside"].toggleViewAction()
    toggle.trigger()
    assert not window.docks["Inside"].isVisible()
    box = window.show_shortcuts()
    assert "F5" in box.text()


def test_startup_without_pretrained_model_builds_an_untrained_lenet5(qtbot, settings_path, no_pretrained):
    window = make_window(qtbot, settings_path)
    model = window.state.model
    assert [type(x).__name__ for x in model.layers] == [type(x).__name__ for x in zoo.build("lenet5").layers]
    assert "untrained LeNet-5" in window.statusBar().currentMessage()


def test_startup_opens_the_pretrained_model_when_it_ships(qtbot, settings_path, monkeypatch, tmp_path):
    saved = tmp_path / "saved_models" / "lenet5-mnist"
    zoo.build("mlp", seed=1).save(saved)
    monkeypatch.setattr(main_window_mod, "STARTUP_MODEL", saved)
    window = make_window(qtbot, settings_path)
    assert window.state.model_path == str(saved)
    assert window.state.model.count_params() == zoo.build("mlp").count_params()
    assert "lenet5-mnist" in window.windowTitle()


def test_settings_round_trip(qtbot, settings_path, no_pretrained, tmp_path):
    window = make_window(qtbot, settings_path)
    window.show()
    window.setGeometry(1, 27, 798, 760)   # inside the offscreen 800x800 screen, so restoring needs no clamping
    dp, tp = window.data_panel, window.training_panel
    dp.source.setCurrentIndex(dp.source.findData("fashion-mnist"))
    dp.validation.setValue(20)
    tp.optimizer.setCurrentText("RMSprop")
    tp.hyper["lr"].setValue(0.002)
    tp.epochs.setValue(7)
    window.docks["Draw"].hide()
    saved = tmp_path / "m1"
    assert window.save_model_to(saved)
    window.close()

    again = make_window(qtbot, settings_path)
    assert again.data_panel.choice()["source"] == "fashion-mnist"
    assert again.data_panel.choice()["validation"] == pytest.approx(0.2)
    assert again.training_panel.validation_fraction == pytest.approx(0.2)
    assert again.training_panel.config() == tp.config()
    assert (again.width(), again.height()) == (798, 760)   # a fresh window would be 798x720
    assert again.docks["Draw"].isHidden()
    assert again.settings.recent_models() == [str(saved)]
    assert again.settings.get("models/last_folder") == str(tmp_path)


def test_save_and_open_a_model_and_refuse_a_bad_folder(qtbot, settings_path, no_pretrained, tmp_path):
    window = make_window(qtbot, settings_path)
    model = window.state.model
    model.meta["dataset"] = "mnist"
    assert window.save_model_to(tmp_path / "mine")
    assert load_model(tmp_path / "mine").meta["dataset"] == "mnist"
    (tmp_path / "junk").mkdir()
    assert not window.open_model(tmp_path / "junk")
    box, = visible_messages(window)
    assert "model.json" in box.text()
    assert window.state.model is model, "a bad file must not replace the open model"
    box.close()
    assert window.open_model(tmp_path / "mine")
    assert window.state.model is not model and window.state.model_path == str(tmp_path / "mine")


def slow_identity(x, rng):
    time.sleep(0.02)
    return x


def test_closing_the_window_mid_run_ends_the_thread(qtbot, settings_path, no_pretrained, monkeypatch):
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: slow_identity)
    window = make_window(qtbot, settings_path)
    window.show()
    window.state.set_model(zoo.build("mlp", seed=0))
    window.state.set_dataset(tiny_dataset())
    tp = window.training_panel
    tp.epochs.setValue(100)
    tp.batch_size.setValue(16)
    tp.start()
    qtbot.waitUntil(lambda: tp.plots.batch["loss"].n >= 3, timeout=5000)
    thread = tp.job.thread
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 1.0
    assert thread.isFinished() and not thread.isRunning()
    assert not window.isVisible() and not tp.running
    assert all(np.isfinite(w).all() for w in window.state.model.get_weights().values())


def test_look_inside_a_mistake_from_evaluation(qtbot, settings_path):
    """Evaluation's "Look inside" opens that test image in Inside's feature maps, and its mistakes
    become Inside's "Next mistake" list."""
    window = make_window(qtbot, settings_path)
    window.show()
    rng = np.random.default_rng(0)
    x = rng.random((30, 1, 28, 28), dtype=np.float32)
    window.state.set_dataset(Dataset("mnist", x, np.arange(30) % 10, x, np.arange(30) % 10,
                                     [str(i) for i in range(10)], "test"))
    evaluation, inside = window.panels["Evaluation"], window.panels["Inside"]
    evaluation.mistakesFound.emit(np.array([7, 3]))
    evaluation.inspectRequested.emit(7)
    assert inside.picker.index.value() == 7
    assert inside.TABS[inside.tabs.currentIndex()] == "Feature maps"
    assert window.docks["Inside"].isVisible()
    assert list(inside.picker._mistakes) == [7, 3]


def lenet_window(qtbot, settings_path):
    """A shown window on an untrained LeNet-5 and the tiny dataset: (window, model)."""
    window = make_window(qtbot, settings_path)
    window.resize(1200, 800)
    window.show()
    model = zoo.build("lenet5", seed=0)
    window.state.set_dataset(tiny_dataset())
    window.state.set_model(model)
    return window, model


def test_panels_behind_another_tab_wait_until_their_tab_is_raised(qtbot, settings_path, no_pretrained,
                                                                  monkeypatch):
    """A dock behind another tab still counts as visible to Qt. Its views must not redraw each
    training snapshot there (that time is taken from the trainer), and must catch up when raised."""
    window, model = lenet_window(qtbot, settings_path)
    inside, evaluation, draw = window.panels["Inside"], window.panels["Evaluation"], window.panels["Draw"]
    window.show_panel("Training")
    qtbot.waitUntil(lambda: not any(on_screen(panel) for panel in (inside, evaluation, draw)))   # (slow when loaded)
    drawn = []

    def refresh():
        inside.filters._dirty = False
        drawn.append(inside.source.model.get_config())

    monkeypatch.setattr(inside.filters, "refresh", refresh)
    told = []
    for panel in (inside, evaluation, draw):
        panel.source.weightsChanged.connect(lambda: told.append(1))
    for scale in (2, 3):   # the second's results-outdated checks run while the first waits
        window.state.weightsUpdated.emit({k: scale * v for k, v in model.get_weights().items()}, {})
    qtbot.wait(3 * WEIGHTS_REFRESH_MS)
    assert told == []
    confidence = window.findChild(ConfidencePage)   # its and Evaluation's results-outdated checks read no weights
    for panel in (inside, evaluation, draw, confidence):   # nor is a snapshot copied behind a tab
        assert np.array_equal(panel.source._model.get_weights()["0.W"], model.get_weights()["0.W"]), panel
    assert not draw._throttle.isActive()   # the pad does not predict behind a tab
    mlp = zoo.build("mlp", seed=0)
    window.state.set_model(mlp)
    qtbot.wait(50)
    assert drawn == [] and not evaluation.busy and evaluation.result is None

    window.show_panel("Inside")
    qtbot.waitUntil(lambda: len(drawn) > 0, timeout=1000)
    qtbot.wait(50)
    assert drawn == [mlp.get_config()]   # once, and the model that is current now
    window.show_panel("Evaluation")
    qtbot.waitUntil(lambda: evaluation.result is not None, timeout=5000)
    window.show_panel("Draw")
    assert not draw._dirty
    assert evaluation.result.probs.shape == (20, 10)


def test_a_plot_is_on_screen_through_its_viewport_and_not_behind_another_tab(qtbot, settings_path, no_pretrained):
    """A pyqtgraph plot is a scroll area whose viewport covers all of it, so its own visible region is empty
    even in front: ``on_screen`` looks through the viewport, else a lazy plot would never draw."""
    window, _ = lenet_window(qtbot, settings_path)
    plot = window.training_panel.plots.batch_loss
    window.show_panel("Training")
    qtbot.waitUntil(lambda: on_screen(plot))
    assert plot.visibleRegion().isEmpty()   # what Qt says of the plot widget itself
    window.show_panel("Inside")
    qtbot.waitUntil(lambda: not on_screen(plot))
    assert plot.isVisible()   # a dock behind another tab still counts as visible to Qt


def test_a_raised_panel_takes_the_training_snapshot_that_waited_behind_its_tab(qtbot, settings_path,
                                                                              no_pretrained):
    window, model = lenet_window(qtbot, settings_path)
    inside = window.panels["Inside"]
    inside.set_tab("Filters")
    window.show_panel("Inside")
    qtbot.waitUntil(lambda: on_screen(inside) and not inside.filters._dirty)   # drawn: nothing left to catch up
    window.show_panel("Training")
    qtbot.waitUntil(lambda: not on_screen(inside))
    window.state.set_training(True)
    trained = {k: -v for k, v in model.get_weights().items()}
    window.state.weightsUpdated.emit(trained, {})
    qtbot.wait(3 * WEIGHTS_REFRESH_MS)
    assert inside.source._pending is not None
    window.show_panel("Inside")
    conv1 = inside.filters.sections[0]
    qtbot.waitUntil(lambda: np.allclose(conv1.grid.tiles()[0].values[0], trained["0.W"][0, 0]), timeout=2000)
    assert inside.source._pending is None and inside.source.version == window.state.model_version
    lab = window.panels["Lab"]
    shown, behind = (lab.pages[title] for title in ("Confidence", "Robustness"))
    lab.show_page("Confidence")
    window.state.weightsUpdated.emit({k: 2 * v for k, v in model.get_weights().items()}, {})
    window.show_panel("Lab")
    qtbot.waitUntil(lambda: shown.source._pending is None, timeout=2000)
    assert behind.source._pending is not None, "a Lab page behind another of its tabs waits for its own turn"
    lab.show_page("Robustness")
    qtbot.waitUntil(lambda: behind.source._pending is None, timeout=2000)


def sleepy(seconds):
    """An augment that only waits, standing in for a batch of long NumPy calls."""
    def augment(x, rng):
        time.sleep(seconds)
        return x
    return augment


def start_slow_run(qtbot, window):
    """A run on a tiny dataset, started with the Start button, once it is inside ``fit``."""
    window.state.set_dataset(tiny_dataset())
    window.state.set_model(zoo.build("mlp", seed=0))
    tp = window.training_panel
    tp.epochs.setValue(100)
    tp.batch_size.setValue(16)
    for box in tp.augment.values():
        box.setChecked(True)
    tp.buttons["start"].click()
    qtbot.waitUntil(lambda: tp.running and (tp.progress_label.text() == "Training…" or tp.plots.batch["loss"].n > 0),
                    timeout=5000)
    return tp


def test_closing_never_waits_longer_than_its_budget_and_starts_nothing_after(qtbot, settings_path, no_pretrained,
                                                                            monkeypatch):
    """A batch that outlasts the close: the close is accepted within CLOSE_WAIT_MS (the app then ends
    the process), and a closed window's jobs start no new thread (Evaluation's automatic re-run)."""
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: sleepy(5))
    monkeypatch.setattr(main_window_mod, "CLOSE_WAIT_MS", 300)
    window = make_window(qtbot, settings_path)
    window.show()
    tp = start_slow_run(qtbot, window)
    thread = tp.job.thread
    started = time.perf_counter()
    assert window.close(), "the close must be accepted, not put off"
    assert time.perf_counter() - started < 1.0
    assert not window.isVisible() and tp.job.worker.stop_requested
    evaluation = window.panels["Evaluation"]
    evaluation.evaluate()
    assert not evaluation.job.running, "a closed window started an evaluation"
    assert not window.stop_background(0), "the long batch is still running"
    assert thread.wait(10_000) and window.stop_background(0)


def test_the_data_panel_is_locked_while_a_run_trains(qtbot, settings_path, no_pretrained, monkeypatch):
    """A run trains on the loaded data: no other can be loaded until it ends, and the Data tab says why."""
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: sleepy(0.02))
    window = make_window(qtbot, settings_path)
    window.show()
    window.show_panel("Data")
    data = window.data_panel
    data.show_dataset(tiny_dataset())
    tp = start_slow_run(qtbot, window)
    run_data = window.state.dataset
    data.source.setCurrentIndex(data.source.findData("synthetic"))
    qtbot.mouseClick(data.load_button, Qt.LeftButton)
    data.load()
    assert not data.loading and window.state.dataset is run_data
    assert not data.load_button.isEnabled() and not data.source.isEnabled() and not data.validation.isEnabled()
    note = "Training on mnist: stop the run to change the data."
    assert data.locked_note.isVisible() and data.locked_note.text() == note
    assert data.source_box.toolTip() == note
    assert "mnist" in data.summary.text()
    tp.stop()
    qtbot.waitUntil(lambda: not tp.running, timeout=5000)
    assert data.load_button.isEnabled() and data.source.isEnabled() and not data.locked_note.isVisible()


def slow_loader(seconds):
    """A dataset loader that cannot be interrupted: it takes ``seconds`` whatever Cancel says."""
    def load(progress):
        time.sleep(seconds)
        return tiny_dataset()
    return load


@pytest.mark.parametrize("load_seconds", [1.0, 0.0])
def test_a_load_under_way_never_replaces_the_data_of_a_run_started_meanwhile(qtbot, settings_path, no_pretrained,
                                                                          monkeypatch, load_seconds):
    """Start pressed while another dataset loads: the load is cancelled and its result dropped, whether
    the loader is still working (1 s) or has already sent its result, not yet received (0 s)."""
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: sleepy(0.02))
    monkeypatch.setattr(data_mod, "_loader", lambda source, options, download: slow_loader(load_seconds))
    window = make_window(qtbot, settings_path)
    window.show()
    data = window.data_panel
    data.load()
    if not load_seconds:
        data.job.thread.wait()
    tp = start_slow_run(qtbot, window)
    run_data = window.state.dataset
    qtbot.waitUntil(lambda: not data.loading, timeout=20_000)
    qtbot.wait(50)
    assert window.state.dataset is run_data and data.progress.format() == "Cancelled"
    assert "Training on mnist" in window.statusBar().currentMessage()
    tp.stop()
    qtbot.waitUntil(lambda: not tp.running, timeout=5000)


def test_saving_onto_a_folder_of_other_files_is_refused_with_a_message(qtbot, settings_path, no_pretrained,
                                                                       tmp_path):
    window = make_window(qtbot, settings_path)
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years of work")
    assert not window.save_model_to(folder)
    box, = visible_messages(window)
    assert "thesis.txt" in box.text() and str(folder) in box.text()
    assert [p.name for p in folder.iterdir()] == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text() == "four years of work"
    assert window.state.model_path != str(folder)
    box.close()


def test_saving_names_the_model_everywhere(qtbot, settings_path, no_pretrained, tmp_path):
    window = make_window(qtbot, settings_path)
    label = window.training_panel.model_label
    assert "unsaved model" in label.text() and not window.isWindowModified()
    assert window.save_model_to(tmp_path / "mine")
    assert label.text().startswith("<b>mine</b>") and "unsaved" not in label.text()
    assert window.windowTitle().startswith("mine") and not window.isWindowModified()
    window.state.set_model(window.state.model, window.state.model_path, saved=False)   # as after a run
    assert "mine · unsaved changes" in label.text() and window.isWindowModified()
    assert window.save_model_to(tmp_path / "mine")
    assert "unsaved" not in label.text() and not window.isWindowModified()


def test_the_title_marks_every_model_with_work_no_file_has(qtbot, settings_path, no_pretrained, tmp_path):
    """A preset trained for an hour and never saved, or an opened model while a run changes it, is work to
    lose: Qt's "*" says so. A fresh preset is not."""
    window = make_window(qtbot, settings_path)
    state, label = window.state, window.training_panel.model_label
    assert not window.isWindowModified()                      # a fresh preset
    state.model.train_history = {"loss": [0.3]}
    state.set_model(state.model)                              # trained, never saved
    assert window.isWindowModified()
    assert window.save_model_to(tmp_path / "mine") and not window.isWindowModified()
    images, labels = np.zeros((4, 1, 28, 28), np.float32), np.arange(4)
    state.set_dataset(Dataset("tiny", images, labels, images, labels, [str(i) for i in range(10)], "test"))
    state.set_training(True)                                  # the weights change from the first batch on
    assert window.isWindowModified() and "mine · unsaved changes" in label.text()
    state.set_training(False)
    assert window.isWindowModified()


def test_the_save_dialog_starts_in_the_users_folder_never_in_saved_models(qtbot, settings_path, monkeypatch,
                                                                          tmp_path):
    from PySide6.QtWidgets import QFileDialog
    documents = tmp_path / "home" / "Documents"
    documents.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (asked.append(Path(args[2])), ("", ""))[1])
    window = make_window(qtbot, settings_path)   # the shipped lenet5-mnist, from saved_models/
    window.save_model()
    assert asked[-1] == documents / "lenet5-mnist-retrained"
    window.settings.set("models/last_folder", str(main_window_mod.SAVED_MODELS))   # opened from there
    window.save_model_as()
    assert asked[-1].parent == documents
    window.settings.set("models/last_folder", str(tmp_path))
    window.save_model_as()
    assert asked[-1] == tmp_path / "lenet5-mnist-retrained"


@pytest.fixture
def no_data_anywhere(monkeypatch, tmp_path):
    """An empty cache, no $NUMPYNET_DATA, no system folders, and a network that fails at once."""
    from core.datasets import download, sources
    monkeypatch.delenv("NUMPYNET_DATA", raising=False)
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [])

    def offline(*_args, **_kwargs):
        raise OSError("the network is unreachable (test)")
    monkeypatch.setattr(download.urllib.request, "urlopen", offline)


def test_first_launch_without_data_says_one_thing_and_offers_ways_in(qtbot, settings_path, no_data_anywhere):
    window = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat))   # loads the data it finds
    qtbot.addWidget(window)
    panel, bar = window.data_panel, window.statusBar()
    qtbot.waitUntil(lambda: "not on this computer" in bar.currentMessage(), timeout=5000)
    qtbot.wait(200)
    assert not panel.loading and "not on this computer" in bar.currentMessage()
    assert panel.progress.format() == "" and "MNIST" in panel.summary.text()
    assert "not on this computer" in panel.summary.text() and not visible_messages(window)
    assert not panel.offer.isHidden() and all(not b.isHidden() for b in panel.offer_buttons.values())
    panel.source.setCurrentIndex(panel.source.findData("synthetic"))
    assert panel.summary.text() == "Nothing loaded yet." and panel.offer.isHidden() and panel.progress.format() == ""
    assert bar.currentMessage() == "Press Load to load Synthetic digits (offline)."


def test_a_failed_load_is_forgotten_when_the_source_changes(qtbot, settings_path, no_data_anywhere):
    window = make_window(qtbot, settings_path)
    panel = window.data_panel
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    panel.load()   # downloading fails at once
    qtbot.waitUntil(lambda: not panel.loading, timeout=5000)
    for box in visible_messages(window):
        box.close()
    assert panel.progress.format() == "Failed" and window.statusBar().currentMessage().startswith("Could not load")
    panel.source.setCurrentIndex(panel.source.findData("synthetic"))
    assert panel.progress.format() == "" and "Failed" not in panel.summary.text()
    assert "Could not load" not in window.statusBar().currentMessage()


def test_the_offer_loads_synthetic_digits_in_one_click(qtbot, settings_path, no_data_anywhere):
    from PySide6.QtCore import Qt
    window = make_window(qtbot, settings_path)
    panel = window.data_panel
    panel.count.setValue(200)
    panel.load(download=False)
    assert not panel.offer.isHidden()
    with qtbot.waitSignal(window.state.datasetChanged, timeout=20_000):
        qtbot.mouseClick(panel.offer_buttons["synthetic"], Qt.LeftButton)
    assert window.state.dataset.name == "synthetic-digits" and panel.offer.isHidden()
    assert "synthetic" in panel.summary.text() and window.statusBar().currentMessage().startswith("Loaded")


SMALL_SCREEN = (1366, 768 - 70)   # a 1366x768 screen less a title bar and a task bar


def long_named_dataset(n=120):
    rng = np.random.default_rng(0)
    names = [f"class number {i} with a rather long descriptive name" for i in range(10)]
    return Dataset("a dataset whose name goes on and on to see where the text ends up",
                   rng.random((n, 1, 20, 20), dtype=np.float32), rng.integers(0, 10, n),
                   rng.random((20, 1, 20, 20), dtype=np.float32), rng.integers(0, 10, 20), names,
                   "/a/folder/" + "very-long-folder-name/" * 8)


def assert_fits(qtbot, window, width, what):
    for title in PANEL_ORDER:
        window.show_panel(title)
        qtbot.wait(20)
        hint = window.minimumSizeHint()
        assert hint.width() <= SMALL_SCREEN[0] and hint.height() <= SMALL_SCREEN[1], \
            f"{what}: the {title} tab needs {hint.width()}x{hint.height()}"
        assert window.width() == width, f"{what}: the window widened to {window.width()} on the {title} tab"


def test_the_window_fits_a_1366x768_screen_in_every_tab(qtbot, settings_path):
    window = make_window(qtbot, settings_path)   # the pretrained LeNet-5
    editor = window.panels["Architecture"]
    editor.ask, editor.warn = (lambda *_args: True), (lambda *_args: None)
    window.resize(1229, 691)                     # what a first start on a 1366x768 screen gives
    window.show()
    qtbot.waitExposed(window)
    assert_fits(qtbot, window, 1229, "LeNet-5, no data")
    window.state.set_dataset(long_named_dataset())   # the model no longer fits: Training says why
    window.data_panel.show_dataset(window.state.dataset)
    assert_fits(qtbot, window, 1229, "long names")
    editor.start_empty()
    for layer in ("Conv2D", "MaxPool2D", "Flatten", "Dense"):
        editor.add_layer(layer)          # invalid on the way: the reasons are long sentences
        editor.select_layer(0)
        assert_fits(qtbot, window, 1229, f"editing, after adding {layer}")
    window.show_panel("Architecture")
    qtbot.wait(20)
    viewport = editor.diagram.parentWidget()
    assert editor.diagram.height() <= viewport.height(), "the network drawing is cut off at the bottom"


def test_a_remembered_folder_that_is_gone_is_said_at_start_up_without_a_dialog(qtbot, settings_path, tmp_path):
    Settings(QSettings(settings_path, QSettings.IniFormat)).set(
        "data/choice", {"source": "folder", "folder": str(tmp_path / "gone")})
    window = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat))
    qtbot.addWidget(window)
    panel = window.data_panel
    qtbot.waitUntil(lambda: "not on this computer" in window.statusBar().currentMessage(), timeout=5000)
    assert not visible_messages(window) and str(tmp_path / "gone") in panel.summary.text()
    assert not panel.offer.isHidden() and panel.offer_buttons["download"].isHidden()


def test_each_tab_is_a_panel_of_its_own_file_in_gui_panels(qtbot, settings_path, no_pretrained):
    """Where a newcomer looks for a tab: gui/panels/<tab>.py holds it, and nothing else holds a panel."""
    window = make_window(qtbot, settings_path)
    modules = {title: type(window.panels[title]).__module__ for title in PANEL_ORDER}
    assert modules == {title: f"gui.panels.{title.lower()}" for title in PANEL_ORDER}
    panels_folder = Path(main_window_mod.__file__).parent / "panels"
    assert sorted(p.stem for p in panels_folder.glob("*.py") if p.stem != "__init__") == \
        sorted(title.lower() for title in PANEL_ORDER)


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "1.5"])
def test_a_bad_thread_count_is_said_once_and_the_cores_are_used(monkeypatch, bad):
    from core import parallel
    from gui.app import threads_problem
    monkeypatch.setenv("NUMPYNET_THREADS", bad)
    problem = threads_problem()
    assert "NUMPYNET_THREADS" in problem and repr(bad) in problem and "cores instead" in problem
    assert "NUMPYNET_THREADS" not in os.environ and parallel.count() >= 1


def test_a_good_thread_count_is_left_alone(monkeypatch):
    from gui.app import threads_problem
    monkeypatch.setenv("NUMPYNET_THREADS", "1")
    assert threads_problem() is None and os.environ["NUMPYNET_THREADS"] == "1"
