"""The Data tab's lab parts: N images per class, class means and pixel histogram, colour folders and their size."""
import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar

from core import Sequential, datasets, zoo
from core.datasets import Dataset, stats
from core.layers import Dense, Flatten, Softmax
from gui.panels.architecture import ArchitecturePanel
from gui.panels.data import DataPanel
from gui.panels.draw import DrawPanel
from gui.panels.training import TrainingPanel
from gui.settings import Settings
from gui.state import AppState


def toy(sizes=(300, 150, 40), name="toy"):
    """Class c has sizes[c] training images, each filled with the value c / 2."""
    y = np.random.default_rng(1).permutation(np.concatenate([np.full(n, c) for c, n in enumerate(sizes)]))
    x = (y / 2).astype(np.float32)[:, None, None, None] * np.ones((1, 1, 4, 4), np.float32)
    return Dataset(name, x, y.astype(np.int64), x[:9], y[:9].astype(np.int64), ["a", "b", "c"], "here")


@pytest.fixture
def panel(qtbot, tmp_path):
    state = AppState()
    panel = DataPanel(state, Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)))
    qtbot.addWidget(panel)
    panel.resize(1340, 640)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.job.stop_and_wait(2000)
    panel.summary_view.job.stop_and_wait(2000)


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def test_n_per_class_cuts_the_loaded_set_and_says_so_everywhere(panel):
    full = toy()
    panel.use_dataset(full)
    assert panel.state.dataset is full and panel.subset_note.isHidden()
    choose(panel.per_class, 100)
    ds = panel.state.dataset
    assert np.bincount(ds.y_train).tolist() == [100, 100, 40] and ds.x_test is full.x_test
    assert list(panel.counts.counts) == [100, 100, 40], "the counts view follows"
    assert not panel.subset_note.isHidden() and "240 of 490 training images: 100 per class" in panel.subset_note.text()
    assert "subset" in panel.counts_box.title() and "1,000" not in panel.summary.text()
    assert "240 training" in panel.summary.text()
    choose(panel.per_class, 10)
    first = panel.state.dataset.x_train.copy()
    choose(panel.per_class, 100)
    choose(panel.per_class, 10)
    assert np.array_equal(panel.state.dataset.x_train, first), "the same subset every time"
    choose(panel.per_class, 0)
    assert panel.state.dataset is full and panel.subset_note.isHidden() and "subset" not in panel.counts_box.title()


def test_the_choice_applies_to_the_next_load_and_is_remembered(panel, tmp_path):
    choose(panel.per_class, 10)
    panel.use_dataset(toy())
    assert np.bincount(panel.state.dataset.y_train).tolist() == [10, 10, 10]
    panel.save_settings()
    again = DataPanel(AppState(), panel.settings)
    assert again.per_class.currentData() == 10
    again.deleteLater()


def test_per_class_is_locked_while_training(panel):
    panel.use_dataset(toy())
    panel.state.set_training(True)
    assert not panel.per_class.isEnabled()
    panel.per_class.setCurrentIndex(panel.per_class.findData(10))   # as a script could
    assert len(panel.state.dataset.x_train) == 490, "a run's data never changes under it"
    panel.state.set_training(False)


def test_class_means_and_histogram_are_computed_off_the_gui_thread(qtbot, panel, monkeypatch):
    threads = []
    real = datasets.summarise
    monkeypatch.setattr(datasets, "summarise", lambda *a, **k: threads.append(threading.current_thread()) or
                        real(*a, **k))
    panel.use_dataset(toy())
    view = panel.summary_view
    qtbot.waitUntil(lambda: view.summary is not None, timeout=5000)
    assert threads and threads[0] is not threading.main_thread()
    assert [float(m.mean()) for m in view.summary.means] == [0.0, 0.5, 1.0]
    assert view.summary.histogram[0, 0] == 300 * 16 and view.summary.histogram[0, -1] == 40 * 16
    assert len(view.means._images) == 3 and view.means._labels[2] == "c (40)"
    assert len(view.histogram.curves) == 1 and not view.histogram.hint.isVisible()
    assert "61.2% of pixel values are below 0.03" in view.histogram_line.text()
    assert view.progress_row.isHidden()


def test_a_summary_for_replaced_data_is_dropped(qtbot, panel):
    first, second = toy(), toy((5, 5, 5), name="second")
    panel.use_dataset(first)
    panel.use_dataset(second)
    view = panel.summary_view
    qtbot.waitUntil(lambda: view.summary is not None and not view.job.running, timeout=5000)
    assert view.dataset is second and view.summary.counts.tolist() == [5, 5, 5]


def test_cancel_stops_averaging_and_offers_to_average_after_all(qtbot, panel, monkeypatch):
    monkeypatch.setattr(stats, "CHUNK", 1)   # a progress call, and a chance to stop, per image ...
    real_counts = stats._channel_counts
    monkeypatch.setattr(stats, "_channel_counts", lambda *a: time.sleep(0.002) or real_counts(*a))  # ... 18 s
    big = toy((3000, 3000, 3000))
    panel.use_dataset(big)
    view = panel.summary_view
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=5000)
    qtbot.mouseClick(view.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not view.job.running, timeout=5000)
    assert view.summary is None and view.again_button.isVisible() and not view.progress.isVisible()
    monkeypatch.setattr(stats, "CHUNK", 5000)
    monkeypatch.setattr(stats, "_channel_counts", real_counts)
    qtbot.mouseClick(view.again_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.summary is not None, timeout=5000)
    assert view.summary.counts.tolist() == [3000, 3000, 3000] and view.progress_row.isHidden()


def colour_folder(root, size=(40, 30), per_class=5):
    """root/<blue|red>/<i>.png: RGB pictures of ``size`` (width, height)."""
    for name, colour in {"blue": (20, 40, 230), "red": (230, 20, 20)}.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", size, colour).save(root / name / f"{i}.png")
    return root


def load_folder(qtbot, panel, folder, colour="auto", size=0):
    choose(panel.source, "folder")
    panel.folder.setText(str(folder))
    choose(panel.colour, colour)
    choose(panel.size, size)
    with qtbot.waitSignal(panel.state.datasetChanged, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.load_button, Qt.LeftButton)
    return blocker.args[0]


def test_a_colour_folder_loads_in_colour_at_its_own_size_by_default(qtbot, panel, tmp_path):
    assert panel.colour.currentData() == "auto" and panel.size.currentData() == 0
    ds = load_folder(qtbot, panel, colour_folder(tmp_path / "pics"))
    assert ds.input_shape == (3, 30, 40) and len(ds.x_train) + len(ds.x_test) == 10
    assert np.bincount(ds.y_train).tolist() == [4, 4] and ds.class_names == ["blue", "red"]
    assert "30 × 40 colour" in panel.summary.text()


def test_grey_and_a_chosen_size_override_the_images(qtbot, panel, tmp_path):
    ds = load_folder(qtbot, panel, colour_folder(tmp_path / "pics"), colour="grey", size=28)
    assert ds.input_shape == (1, 28, 28)
    ds = load_folder(qtbot, panel, tmp_path / "pics", colour="colour", size=16)
    assert ds.input_shape == (3, 16, 16)


def test_the_editor_and_its_presets_take_the_colour_data_shape(qtbot, tmp_path):
    state = AppState()
    editor = ArchitecturePanel(state)
    qtbot.addWidget(editor)
    x = np.zeros((6, 3, 32, 32), np.float32)
    state.set_dataset(Dataset("pics", x, np.arange(6) % 3, x, np.arange(6) % 3, ["a", "b", "c"], "here"))
    assert editor.doc.input_shape == (3, 32, 32)
    for name in zoo.names():
        editor.load_preset(name)
        assert editor.analysis.valid, (name, editor.analysis.problem)
        assert state.model.input_shape == (3, 32, 32) and state.model.output_shape == (3,), name


def test_the_draw_pad_prepares_colour_input_for_a_colour_model(qtbot, tmp_path):
    state = AppState()
    draw = DrawPanel(state)
    qtbot.addWidget(draw)
    model = zoo.build("cnn_small", input_shape=(3, 32, 32), classes=3, seed=0)
    model.meta["preprocessing"] = Dataset("pics", *[np.zeros((1, 3, 4, 4))] * 4, ["a"], "here",
                                          preprocessing="resize").preprocessing   # as Training records it
    state.set_model(model)
    picture = Image.new("RGB", (60, 50), (255, 255, 255))
    picture.paste((200, 0, 0), (20, 10, 40, 40))
    picture.save(tmp_path / "red.png")
    draw.open_image(tmp_path / "red.png")
    x = draw._prepared()
    assert x.shape == (1, 3, 32, 32)
    assert np.allclose(x[0, :, 0, 0], 1.0) and np.allclose(x[0, :, 16, 16], [200 / 255, 0, 0], atol=1e-6), \
        "white stays white and red stays red, as in the folder the model learned from"


def test_every_control_on_the_data_tab_explains_itself(panel):
    kinds = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QProgressBar)
    controls = [w for kind in kinds for w in panel.findChildren(kind)
                if not isinstance(w.parent(), (QAbstractSpinBox, QComboBox))]   # a spin box's own line edit
    assert len(controls) >= 15
    silent = [(type(w).__name__, w.text() if hasattr(w, "text") else "") for w in controls
              if not w.toolTip() or not w.statusTip()]
    assert not silent, f"controls without a tooltip and a status tip: {silent}"


def test_training_follows_the_subset_and_a_folder_model_records_resize_preprocessing(qtbot, panel, tmp_path):
    training = TrainingPanel(panel.state, panel.settings)
    qtbot.addWidget(training)
    said = []
    training.status.connect(said.append)
    choose(panel.per_class, 10)
    panel.use_dataset(datasets.load_folder(colour_folder(tmp_path / "pics", per_class=30), size=(8, 8),
                                           grayscale=None))
    panel.state.set_model(Sequential([Flatten(), Dense(2), Softmax()], input_shape=(3, 8, 8), seed=0))
    training.epochs.setValue(1)
    training.set_validation_fraction(0)
    qtbot.mouseClick(training.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(lambda: not training.running, timeout=10_000)
    assert training.plots.batch["loss"].n == 1 and training.batch_size.value() >= 20, "one batch of 20 images"
    assert any("(20 of 48 training images: 10 per class, seed 0)" in s for s in said)
    assert panel.state.model.meta["preprocessing"] == "resize"
    training.job.stop_and_wait(2000)
